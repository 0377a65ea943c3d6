package dev.skydeck.internal.local;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * The bytes of a job's {@code output.log} from a start offset: to the end of the file, or, when
 * following, on until the job has ended (then to the end of what it wrote) or the stream is
 * closed. Following polls the file, which is what {@code tail -f} does too.
 */
public final class LogStream extends InputStream {
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final Path file;
    private final BooleanSupplier ended;
    private final boolean follow;
    private RandomAccessFile raf;
    private long position;
    private volatile boolean closed;

    /**
     * @param file   the log
     * @param start  the byte offset to start at
     * @param follow whether to wait for more data until {@code ended} says the job is over
     * @param ended  whether the job has ended (its exit code is recorded)
     */
    public LogStream(Path file, long start, boolean follow, BooleanSupplier ended) {
        this.file = file;
        this.position = start;
        this.follow = follow;
        this.ended = ended;
    }

    /**
     * The offset where the last {@code lines} lines of {@code file} begin (0 for all, or when the
     * file has fewer lines). A final line without a newline counts as a line.
     */
    public static long tailOffset(Path file, int lines) throws IOException {
        if (lines <= 0 || !Files.exists(file)) {
            return 0;
        }
        try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
            long end = in.length();
            if (end == 0) {
                return 0;
            }
            byte[] buf = new byte[8192];
            long pos = end;
            int newlines = 0;
            boolean skippedFinal = false;
            while (pos > 0) {
                int n = (int) Math.min(buf.length, pos);
                pos -= n;
                in.seek(pos);
                in.readFully(buf, 0, n);
                for (int i = n - 1; i >= 0; i--) {
                    if (buf[i] != '\n') {
                        continue;
                    }
                    if (!skippedFinal && pos + i == end - 1) {
                        skippedFinal = true; // the terminator of the last line
                        continue;
                    }
                    newlines++;
                    if (newlines == lines) {
                        return pos + i + 1;
                    }
                }
            }
            return 0;
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (!closed) {
            // Check for the end before reading, so that data written just before it is not lost.
            boolean over = !follow || ended.getAsBoolean();
            int n = readAvailable(b, off, len);
            if (n > 0) {
                return n;
            }
            if (over) {
                return -1;
            }
            LockSupport.parkNanos(POLL_NANOS);
            if (Thread.interrupted()) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while following " + file);
            }
        }
        return -1;
    }

    private synchronized int readAvailable(byte[] b, int off, int len) throws IOException {
        if (closed) {
            return 0;
        }
        if (raf == null) {
            if (!Files.exists(file)) {
                return 0;
            }
            raf = new RandomAccessFile(file.toFile(), "r");
        }
        if (raf.length() <= position) {
            return 0;
        }
        raf.seek(position);
        int n = raf.read(b, off, len);
        if (n > 0) {
            position += n;
        }
        return Math.max(n, 0);
    }

    @Override
    public void close() throws IOException {
        closed = true;
        synchronized (this) {
            if (raf != null) {
                raf.close();
                raf = null;
            }
        }
    }
}
