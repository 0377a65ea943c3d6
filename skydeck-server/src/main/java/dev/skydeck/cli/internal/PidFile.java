package dev.skydeck.cli.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.skydeck.server.internal.Json;
import dev.skydeck.SkyDeckHome;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The background server's pid file and what goes with it. {@code ~/.skydeck/skydeck.pid} holds the
 * pid alone (so {@code kill $(cat ~/.skydeck/skydeck.pid)} works, as the original SkyDeck's
 * troubleshooting says); {@code ~/.skydeck/skydeck.server.json} beside it holds where it serves,
 * its database and the options it was started with, which {@code skydeck restart} starts it with
 * again. Both are written by the server once it listens and removed when it stops. A pid file whose
 * process is gone is stale and is ignored (and cleaned up).
 *
 * <p>A server on a home's own SQLite database also holds {@code ~/.skydeck/skydeck.lock} (an OS file
 * lock, released when the process ends however it ends), so a second server on that home stops at
 * once with a message naming the first. Every file here is 0600 and written through a temporary
 * file of its own, so two servers starting at the same instant never trip over each other's.
 *
 * @param pid       the server's process id
 * @param url       its base URL, or {@code null} when the metadata file is missing
 * @param db        its database file, or {@code null} when the metadata file is missing
 * @param startedAt when it started, or {@code null} when the metadata file is missing
 * @param host      the address it binds, or {@code null}
 * @param port      the port it listens on, or 0 when unknown
 * @param backend   the backend setting it runs with ({@code local}, {@code skypilot}, {@code auto}), or {@code null}
 */
public record PidFile(long pid, String url, String db, Instant startedAt, String host, int port, String backend) {
    /** The metadata file that goes with {@code pidFile}. */
    public static Path metadataFile(Path pidFile) {
        return pidFile.resolveSibling(stem(pidFile) + ".server.json");
    }

    private static String stem(Path pidFile) {
        String name = pidFile.getFileName().toString();
        return name.endsWith(".pid") ? name.substring(0, name.length() - 4) : name;
    }

    /** The lock file that goes with {@code pidFile}. */
    public static Path lockFile(Path pidFile) {
        return pidFile.resolveSibling(stem(pidFile) + ".lock");
    }

    /**
     * Takes the home's server lock for the life of this process, or empty when another process
     * holds it.
     */
    public static Optional<AutoCloseable> lock(Path pidFile) throws IOException {
        Path file = lockFile(pidFile);
        SkyDeckHome.createPrivateDirectories(file.getParent());
        SkyDeckHome.ensurePrivateFile(file);
        FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            channel.close();
            return Optional.of(() -> { }); // this process holds it already
        } catch (IOException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            channel.close();
            return Optional.empty();
        }
        FileLock held = lock;
        return Optional.of(() -> {
            held.release();
            channel.close();
        });
    }

    /** Whether another process holds the home's server lock right now. */
    public static boolean lockedElsewhere(Path pidFile) {
        if (!Files.exists(lockFile(pidFile))) {
            return false;
        }
        try {
            Optional<AutoCloseable> l = lock(pidFile);
            if (l.isEmpty()) {
                return true;
            }
            l.get().close();
            return false;
        } catch (Exception e) {
            return false;
        }
    }

    /** Writes the metadata, then the pid file, each atomically. */
    public void write(Path file) throws IOException {
        SkyDeckHome.createPrivateDirectories(file.getParent());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pid", pid);
        m.put("url", url);
        m.put("db", db);
        m.put("started_at", startedAt == null ? null : startedAt.toString());
        m.put("host", host);
        m.put("port", port);
        m.put("backend", backend);
        replace(metadataFile(file), Json.bytes(m));
        replace(file, (pid + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    /** Through a temporary file of this process's own, 0600, renamed over the file. */
    private static void replace(Path file, byte[] content) throws IOException {
        Path tmp = file.resolveSibling("." + file.getFileName() + "." + ProcessHandle.current().pid() + "-"
                + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
        try {
            Files.createFile(tmp);
            SkyDeckHome.makePrivate(tmp);
            Files.write(tmp, content);
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The file's content if it names a live process; a stale or broken file is deleted. */
    public static Optional<PidFile> readLive(Path file) {
        Optional<PidFile> p = read(file);
        if (p.isPresent() && ProcessHandle.of(p.get().pid()).map(PidFile::isSkyDeck).orElse(false)) {
            return p;
        }
        delete(file);
        return Optional.empty();
    }

    /** Alive, and (where the OS tells) running SkyDeck: a pid reused by another program after a reboot is stale. */
    private static boolean isSkyDeck(ProcessHandle h) {
        return h.isAlive() && h.info().commandLine().map(c -> c.toLowerCase(java.util.Locale.ROOT).contains("skydeck"))
                .orElse(true);
    }

    /**
     * The pid file's pid with the metadata that goes with it, if the pid file is readable. A pid file
     * in the JSON format of earlier versions is read too.
     */
    public static Optional<PidFile> read(Path file) {
        long pid;
        JsonNode meta = null;
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8).strip();
            if (text.startsWith("{")) {
                meta = Json.MAPPER.readTree(text);
                pid = meta.path("pid").asLong(-1);
            } else {
                pid = Long.parseLong(text);
            }
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
        if (pid <= 0) {
            return Optional.empty();
        }
        if (meta == null) {
            try {
                JsonNode n = Json.MAPPER.readTree(Files.readAllBytes(metadataFile(file)));
                meta = n.path("pid").asLong(-1) == pid ? n : null;
            } catch (IOException | RuntimeException e) {
                meta = null;
            }
        }
        if (meta == null) {
            return Optional.of(new PidFile(pid, null, null, null, null, 0, null));
        }
        Instant started;
        try {
            started = meta.hasNonNull("started_at") ? Instant.parse(meta.path("started_at").asText()) : null;
        } catch (RuntimeException e) {
            started = null;
        }
        return Optional.of(new PidFile(pid, meta.path("url").asText(null), meta.path("db").asText(null), started,
                meta.path("host").asText(null), meta.path("port").asInt(0), meta.path("backend").asText(null)));
    }

    /** Deletes the file (and its metadata) if it still names {@code pid}. */
    public static void removeIfOwn(Path file, long pid) {
        if (read(file).map(p -> p.pid() == pid).orElse(false)) {
            delete(file);
        }
    }

    private static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
            Files.deleteIfExists(metadataFile(file));
        } catch (IOException e) {
            // leave them; the next start overwrites them
        }
    }
}
