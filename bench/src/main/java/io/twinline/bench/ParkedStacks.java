package io.twinline.bench;

import java.util.concurrent.locks.LockSupport;

/**
 * How much heap a parked virtual thread's stack takes, by the depth it parks at and whether the code was warm.
 * Parks 10,000 virtual threads {@code depth} frames deep (after {@code warmup} threads ran the same path), wakes
 * and re-parks them {@code reparks} times, then prints its pid and waits: read the heap with
 * {@code jcmd <pid> GC.class_histogram | grep StackChunk} (bench/parked-stacks.sh does both).
 *
 * <p>Usage: {@code ParkedStacks depth warmup reparks}
 */
public final class ParkedStacks {
    private static volatile int sink;

    private ParkedStacks() {
    }

    private static void parkAt(int depth, int parks) {
        if (depth == 0) {
            for (int i = 0; i < parks; i++) {
                LockSupport.park();
            }
            return;
        }
        parkAt(depth - 1, parks);
        sink++;
    }

    public static void main(String[] args) throws Exception {
        int threads = 10_000;
        int depth = Integer.parseInt(args[0]);
        int warmup = Integer.parseInt(args[1]);
        int reparks = Integer.parseInt(args[2]);
        for (int w = 0; w < warmup; w++) {
            Thread t = Thread.ofVirtual().start(() -> parkAt(depth, 1));
            while (t.isAlive()) {
                LockSupport.unpark(t);
                Thread.onSpinWait();
            }
        }
        Thread[] parked = new Thread[threads];
        for (int i = 0; i < threads; i++) {
            parked[i] = Thread.ofVirtual().start(() -> parkAt(depth, reparks + 1));
        }
        for (int p = 0; p < reparks; p++) {
            Thread.sleep(300);
            for (Thread t : parked) {
                LockSupport.unpark(t);
            }
        }
        Thread.sleep(300);
        System.out.println("ready " + ProcessHandle.current().pid() + " threads=" + threads);
        Thread.sleep(120_000);
    }
}
