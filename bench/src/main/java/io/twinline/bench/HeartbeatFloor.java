package io.twinline.bench;

import java.io.*;
import java.net.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.locks.LockSupport;

/**
 * What an idle session's heartbeats cost at the least, with no twinline code: per session two loopback connections;
 * each side writes a 13-byte PING on its send connection once a second (from one platform thread, on a 50 ms grid,
 * as twinline's round timer does) and a virtual-thread reader on each connection answers a PING with a 13-byte PONG
 * at once. Four frames per session per second, as the protocol's heartbeat rule asks of an idle session. Driven by
 * bench/heartbeat-floor.sh: {@code server PORT N} and {@code client PORT N}; commands {@code cpu} (prints the process's
 * CPU time in ms) and {@code quit}.
 */
public final class HeartbeatFloor {
    static final int PING = 9, PONG = 10;
    public static void main(String[] a) throws Exception {
        boolean server = a[0].equals("server");
        int port = Integer.parseInt(a[1]);
        int sessions = Integer.parseInt(a[2]);
        List<Socket> send = new ArrayList<>(), recv = new ArrayList<>();
        if (server) {
            ServerSocket ss = new ServerSocket(port, 4096, InetAddress.getLoopbackAddress());
            for (int i = 0; i < 2 * sessions; i++) {
                Socket s = ss.accept(); s.setTcpNoDelay(true);
                int ch = s.getInputStream().read();          // 0: A (server receives), 1: B (server sends)
                (ch == 0 ? recv : send).add(s);
            }
        } else {
            for (int i = 0; i < sessions; i++) {
                for (int ch = 0; ch < 2; ch++) {
                    Socket s = new Socket(InetAddress.getLoopbackAddress(), port); s.setTcpNoDelay(true);
                    s.getOutputStream().write(ch);
                    (ch == 0 ? send : recv).add(s);
                }
            }
        }
        for (Socket s : recv) Thread.ofVirtual().start(() -> reader(s, true));
        for (Socket s : send) Thread.ofVirtual().start(() -> reader(s, false));
        System.out.println("ready " + send.size() + " " + recv.size());
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        Thread timer = Thread.ofPlatform().daemon().start(() -> {
            byte[] ping = new byte[13]; ping[0] = PING;
            long step = 50_000_000L, next = System.nanoTime();
            int n = 0;
            while (true) {
                next += step;
                long now;
                while ((now = System.nanoTime()) < next) LockSupport.parkNanos(next - now);
                int slot = n++ % 20;
                for (int i = slot; i < send.size(); i += 20) {
                    try { send.get(i).getOutputStream().write(ping); } catch (IOException e) { }
                }
            }
        });
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.equals("cpu")) System.out.println("cpu " + os.getProcessCpuTime() / 1_000_000);
            if (line.equals("quit")) System.exit(0);
        }
    }
    private static void reader(Socket s, boolean answer) {
        try {
            InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream();
            byte[] buf = new byte[256]; byte[] pong = new byte[13]; pong[0] = PONG;
            while (true) {
                int n = in.read(buf);
                if (n < 0) return;
                if (answer) out.write(pong);
            }
        } catch (IOException e) { }
    }
}
