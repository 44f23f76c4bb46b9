package io.twinline.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PooledOutputTest {

    /** Counts the writes that reach the stream below, to show small writes coalesce and large ones pass through. */
    private static final class Sink extends ByteArrayOutputStream {
        int writes;
        int flushes;

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            writes++;
            super.write(b, off, len);
        }

        @Override
        public void flush() {
            flushes++;
        }
    }

    @Test
    void smallWritesCoalesceUntilFlushAndEveryByteArrivesInOrder() throws IOException {
        Sink sink = new Sink();
        PooledOutput out = new PooledOutput(sink);
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        Random random = new Random(7);
        for (int batch = 0; batch < 50; batch++) {
            for (int i = 0; i < 40; i++) {
                byte[] chunk = new byte[random.nextInt(300)];
                random.nextBytes(chunk);
                out.write(chunk, 0, chunk.length);
                expected.write(chunk, 0, chunk.length);
                out.write(i);
                expected.write(i);
            }
            out.flush();
        }
        assertArrayEquals(expected.toByteArray(), sink.toByteArray());
        assertEquals(50, sink.flushes);
        assertEquals(true, sink.writes < 50 * 40 / 4, "writes coalesced: " + sink.writes);
    }

    @Test
    void aLargeBodyPassesStraightThroughAfterWhatWasBuffered() throws IOException {
        Sink sink = new Sink();
        PooledOutput out = new PooledOutput(sink);
        out.write(new byte[] {1, 2, 3}, 0, 3);
        byte[] big = new byte[PooledOutput.BUFFER_BYTES * 3];
        new Random(1).nextBytes(big);
        out.write(big, 0, big.length);
        out.flush();
        byte[] all = sink.toByteArray();
        assertEquals(3 + big.length, all.length);
        assertEquals(2, sink.writes, "the buffered header, then the body itself");
        assertEquals(1, all[0]);
        assertEquals(big[big.length - 1], all[all.length - 1]);
    }
}
