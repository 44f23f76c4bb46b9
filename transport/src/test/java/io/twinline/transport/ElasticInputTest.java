package io.twinline.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ElasticInputTest {

    /** A socket-like source: hands out at most {@code chunk} bytes per read and counts the reads. */
    private static final class Source extends InputStream {
        private final byte[] data;
        private int pos;
        int chunk;
        int reads;
        int lastRequested;

        Source(byte[] data, int chunk) {
            this.data = data;
            this.chunk = chunk;
        }

        @Override
        public int read() {
            throw new AssertionError("ElasticInput reads in blocks");
        }

        @Override
        public int read(byte[] b, int off, int len) {
            reads++;
            lastRequested = len;
            if (pos == data.length) {
                return -1;
            }
            int n = Math.min(Math.min(len, chunk), data.length - pos);
            System.arraycopy(data, pos, b, off, n);
            pos += n;
            return n;
        }
    }

    private static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void everyByteArrivesInOrderWhateverTheChunksAndReadSizes() throws IOException {
        byte[] data = random(200_000, 1);
        Random random = new Random(2);
        Source source = new Source(data, 1);
        ElasticInput in = new ElasticInput(source, 8192);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (true) {
            source.chunk = 1 + random.nextInt(random.nextBoolean() ? 64 : 20_000);
            int want = random.nextInt(4) == 0 ? 1 : 1 + random.nextInt(random.nextBoolean() ? 16 : 12_000);
            if (want == 1) {
                int b = in.read();
                if (b < 0) {
                    break;
                }
                out.write(b);
            } else {
                byte[] chunk = new byte[want];
                int n = in.read(chunk, 0, want);
                if (n < 0) {
                    break;
                }
                out.write(chunk, 0, n);
            }
        }
        assertArrayEquals(data, out.toByteArray());
    }

    @Test
    void startsSmallGrowsWhileReadsFillItAndNeverPastTheMaximum() throws IOException {
        Source source = new Source(random(100_000, 3), Integer.MAX_VALUE);
        ElasticInput in = new ElasticInput(source, 8192);
        assertEquals(ElasticInput.MIN_BYTES, in.capacity());
        for (int i = 0; i < 50_000; i++) {
            in.read(); // one byte at a time: every fill is a full one (512, 1 KiB, ... then 8 KiB each)
        }
        assertEquals(8192, in.capacity(), "grown to the maximum under full reads");
        assertTrue(source.reads <= 12, "bytes came in blocks, not one system call each: " + source.reads);
    }

    @Test
    void aGrownBufferShrinksBackAfterReadsStaySmall() throws IOException {
        Source source = new Source(random(100_000, 4), Integer.MAX_VALUE);
        ElasticInput in = new ElasticInput(source, 8192);
        for (int i = 0; i < 20_000; i++) {
            in.read();
        }
        assertEquals(8192, in.capacity());
        while (in.buffered() > 0) {
            in.read();
        }
        source.chunk = 17; // heartbeat-sized frames only from now on
        for (int i = 0; i < 17 * (ElasticInput.SMALL_FILLS_BEFORE_SHRINK + 1); i++) {
            in.read();
        }
        assertEquals(ElasticInput.MIN_BYTES, in.capacity(), "a quiet connection holds the small buffer again");
    }

    @Test
    void aLargeReadIntoAnEmptyBufferGoesStraightToTheCallersArray() throws IOException {
        Source source = new Source(random(10_000, 5), Integer.MAX_VALUE);
        ElasticInput in = new ElasticInput(source, 8192);
        byte[] body = new byte[4_000];
        int n = in.read(body, 0, body.length);
        assertEquals(4_000, n);
        assertEquals(4_000, source.lastRequested, "asked the source for the caller's length, no copy in between");
        assertEquals(0, in.buffered());
    }

    @Test
    void everyReadThatReturnsBytesIsProgressThoughTheFrameIsIncomplete() throws IOException {
        long[] now = {1_000};
        Source source = new Source(random(100_000, 3), 10);
        ElasticInput in = new ElasticInput(source, 8192, ByteMeter.NONE, () -> now[0]);
        assertEquals(1_000, in.lastProgressNanos(), "creation counts as progress");
        now[0] = 2_000;
        byte[] body = new byte[50_000]; // one long frame body, arriving 10 bytes per read
        int got = in.read(body, 0, 5);
        assertEquals(5, got);
        assertEquals(2_000, in.lastProgressNanos());
        now[0] = 3_000;
        assertEquals(5, in.read(body, 0, 5)); // the other half of that read's 10 bytes: nothing new arrived
        assertEquals(2_000, in.lastProgressNanos(), "bytes served from the buffer are not progress");
        now[0] = 4_000;
        assertEquals(10, in.read(body, 0, body.length)); // a large read goes straight to the source
        assertEquals(4_000, in.lastProgressNanos(), "bytes of a frame still far from complete count");
    }
}
