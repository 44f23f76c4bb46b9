package io.twinline.host;

import java.util.Arrays;

/**
 * Response ids received and not yet acknowledged. Thread-safe; tiny critical sections. Holds no array until the
 * first response arrives: most of a server's sessions may never call the client.
 */
final class AckBuffer {
    private static final long[] NONE = new long[0];
    private long[] ids = NONE;
    private int size;

    synchronized void add(long id) {
        if (size == ids.length) {
            ids = Arrays.copyOf(ids, Math.max(64, size * 2));
        }
        ids[size++] = id;
    }

    synchronized int size() {
        return size;
    }

    /** Removes and returns up to {@code max} ids, or {@code null} if there are none. */
    synchronized long[] drain(int max) {
        if (size == 0) {
            return null;
        }
        int n = Math.min(size, max);
        long[] out = Arrays.copyOf(ids, n);
        System.arraycopy(ids, n, ids, 0, size - n);
        size -= n;
        if (size == 0 && ids.length > 1024) {
            ids = new long[64]; // give back what a burst took
        }
        return out;
    }
}
