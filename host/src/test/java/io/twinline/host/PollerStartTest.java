package io.twinline.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link PollerStart}: the fence that keeps the JDK poller's sub-pollers from running before its initializer has
 * returned, what it buys (no sub-poller pinned, seen by JFR in a JVM of its own), and that it is a no-op where the
 * JDK has no such poller.
 */
class PollerStartTest {
    private static final int CARRIERS = PollerStart.schedulerCarriers();

    /**
     * The property the poller start relies on. The task busy-works (never parks) after starting a thread; that
     * thread must not run before the task has returned. The scheduler may add a carrier to make up for one pinned
     * elsewhere in this JVM, or be slow to run a holder, so one attempt in three is enough; without the holders
     * every attempt fails.
     */
    @Test
    void threadsTheTaskStartsRunOnlyAfterItHasReturned() throws InterruptedException {
        int fenced = 0;
        for (int attempt = 0; attempt < 3 && fenced == 0; attempt++) {
            var returned = new AtomicBoolean();
            var sawReturned = new AtomicBoolean();
            var childRan = new CountDownLatch(1);
            boolean held = PollerStart.runAlone(() -> {
                Thread.ofVirtual().start(() -> {
                    sawReturned.set(returned.get());
                    childRan.countDown();
                });
                busyFor(TimeUnit.MILLISECONDS.toNanos(30));
                returned.set(true);
            }, CARRIERS, PollerStart.HOLD_WAIT_NANOS, PollerStart.HOLD_LIMIT_NANOS);
            assertTrue(childRan.await(10, TimeUnit.SECONDS), "the task's thread ran in the end");
            if (held && sawReturned.get()) {
                fenced++;
            }
        }
        assertTrue(fenced > 0, "the thread started by the task ran only after the task had returned");
    }

    @Test
    void withFewerCarriersThanExpectedTheTaskStillRunsAndNoHolderStaysOn() throws InterruptedException {
        var ran = new AtomicInteger();
        // The holders' own limit is an hour: only letting them go when they cannot all run ends this call.
        boolean held = assertTimeoutPreemptively(Duration.ofMinutes(1), () -> PollerStart.runAlone(
                ran::incrementAndGet, CARRIERS + 8, TimeUnit.MILLISECONDS.toNanos(20), TimeUnit.HOURS.toNanos(1)),
                "the call returned without waiting for the holders' limit");
        assertFalse(held, "not every carrier the call asked for exists");
        assertEquals(1, ran.get(), "the task ran once");
        // The holders are gone: as many threads as there are carriers can all run at once again.
        var together = new CountDownLatch(CARRIERS);
        var go = new CountDownLatch(1);
        for (int i = 0; i < CARRIERS; i++) {
            Thread.ofVirtual().start(() -> {
                together.countDown();
                while (go.getCount() > 0) {
                    Thread.onSpinWait();
                }
            });
        }
        try {
            assertTrue(together.await(10, TimeUnit.SECONDS), "every carrier is free again");
        } finally {
            go.countDown();
        }
    }

    private static void busyFor(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() - end < 0) {
            Thread.onSpinWait();
        }
    }

    @Test
    void withoutThePollerClassNothingIsStartedAndNothingThrown() {
        assertFalse(PollerStart.initializeFenced("sun.nio.ch.NoSuchPoller", null), "no such class: not initialized");
    }

    /** Set by {@link FailingPoller}'s initializer (a field of that class could not be read after it failed). */
    static final AtomicBoolean failingPollerInitializerRan = new AtomicBoolean();

    static final class FailingPoller {
        private static final boolean FAIL = true;

        static {
            failingPollerInitializerRan.set(true);
            if (FAIL) {
                throw new IllegalStateException("this JDK's poller cannot start");
            }
        }
    }

    @Test
    void aPollerWhoseInitializerFailsIsLeftToFailAtFirstUse() {
        ClassLoader loader = PollerStartTest.class.getClassLoader();
        assertFalse(PollerStart.initializeFenced(FailingPoller.class.getName(), loader), "reported as not initialized");
        assertTrue(failingPollerInitializerRan.get(), "its initializer ran, in the fence, and threw there");
    }

    /**
     * What the fence buys, in a JVM whose poller has not started (this one's has): after the fenced start, the first
     * socket round trips of many virtual threads record no {@code jdk.VirtualThreadPinned} event for the poller's
     * initializer (JFR, every pinned event recorded). Without the holders (one carrier asked for) a sub-poller
     * may run on the free carrier while the initializer runs, and this test then fails. The child says whether
     * every other carrier was held; a run where they could not all be held says nothing and is skipped.
     */
    @Test
    void afterTheFencedStartNoThreadWaitsPinnedForThePollersInitializer(@TempDir Path dir) throws Exception {
        assumeTrue(pollerClassExists(), "this JDK has no " + PollerStart.POLLER_CLASS);
        Path jfr = dir.resolve("pinned.jfr");
        String out = ChildJvm.run(FencedStartThenSockets.class, dir,
                List.of("-XX:StartFlightRecording:filename=" + jfr + ",jdk.VirtualThreadPinned#threshold=0ms",
                        "-Xlog:jfr=off"));
        Matcher held = Pattern.compile("held=(true|false)").matcher(out);
        assertTrue(held.find(), "the child reported: " + out);
        assumeTrue(Boolean.parseBoolean(held.group(1)), "the child could not hold every other carrier");
        String events = ChildJvm.jdkTool("jfr", dir, "print", "--events", "jdk.VirtualThreadPinned", jfr.toString());
        List<String> pollerPins = events.lines()
                .filter(l -> l.contains("pinnedReason") && l.contains(PollerStart.POLLER_CLASS)).toList();
        assertEquals(List.of(), pollerPins, "pinned waiting for the poller's initializer:\n" + events);
    }

    /** The child JVM of the test above: the fenced start, then 64 virtual threads' first socket round trips. */
    static final class FencedStartThenSockets {
        public static void main(String[] args) throws Exception {
            // The production fence, with bounds a loaded machine cannot run out: holders that wait and spin long
            // enough, so that whether the fence held is all that decides.
            boolean held = PollerStart.runAlone(() -> {
                try {
                    Class.forName(PollerStart.POLLER_CLASS, true, null);
                } catch (ClassNotFoundException e) {
                    throw new IllegalStateException(e);
                }
            }, PollerStart.schedulerCarriers(), TimeUnit.SECONDS.toNanos(10), TimeUnit.SECONDS.toNanos(60));
            firstRoundTrips(64);
            System.out.println("held=" + held);
        }

        private static void firstRoundTrips(int clients) throws Exception {
            try (var server = new ServerSocket(0, clients, InetAddress.getLoopbackAddress())) {
                Thread.ofVirtual().start(() -> {
                    try {
                        while (true) {
                            Socket s = server.accept();
                            Thread.ofVirtual().start(() -> echoOneByte(s));
                        }
                    } catch (IOException e) {
                        // the server socket closed: done
                    }
                });
                var done = new CountDownLatch(clients);
                for (int i = 0; i < clients; i++) {
                    Thread.ofVirtual().start(() -> {
                        try (var s = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort())) {
                            s.getOutputStream().write(1);
                            s.getInputStream().read();
                        } catch (IOException e) {
                            throw new IllegalStateException(e);
                        } finally {
                            done.countDown();
                        }
                    });
                }
                if (!done.await(60, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("round trips not done");
                }
            }
        }

        private static void echoOneByte(Socket s) {
            try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                out.write(in.read());
            } catch (IOException e) {
                // the client left: nothing to echo
            }
        }
    }

    private static boolean pollerClassExists() {
        try {
            Class.forName(PollerStart.POLLER_CLASS, false, null);
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }
}
