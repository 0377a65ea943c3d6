package dev.skydeck.internal.local;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The files of one local job, {@code <jobs>/<launchId>/}. Shared by the backend and the
 * {@link JobRunner}; uses the JDK only, because the runner runs with nothing else on its class path.
 *
 * <ul>
 *   <li>{@code job.properties} — what was launched (written once, before the runner starts)</li>
 *   <li>{@code pid} — the runner's and the command's pid and start time (properties)</li>
 *   <li>{@code output.log} — the command's stdout and stderr</li>
 *   <li>{@code runner.log} — the runner JVM's own output (normally empty)</li>
 *   <li>{@code exit_code} — the command's exit code, written atomically when it ended</li>
 *   <li>{@code error} — why the command could not be started, when it could not</li>
 *   <li>{@code cancelled} — present when a cancel was asked for</li>
 * </ul>
 */
public final class JobDir {
    /** Metadata file name. */
    public static final String METADATA = "job.properties";
    /** Pid file name. */
    public static final String PID = "pid";
    /** Log file name. */
    public static final String OUTPUT = "output.log";
    /** The runner JVM's own log. */
    public static final String RUNNER_LOG = "runner.log";
    /** Exit code file name. */
    public static final String EXIT_CODE = "exit_code";
    /** Start-failure file name. */
    public static final String ERROR = "error";
    /** Cancel marker file name. */
    public static final String CANCELLED = "cancelled";

    private final Path dir;

    /** The job directory {@code dir} (not created). */
    public JobDir(Path dir) {
        this.dir = dir;
    }

    /** The directory. */
    public Path dir() {
        return dir;
    }

    /** The directory name, which is the launch id. */
    public String name() {
        return dir.getFileName().toString();
    }

    /** A file of this job. */
    public Path file(String name) {
        return dir.resolve(name);
    }

    /** The recorded exit code, if the command ended. */
    public OptionalInt exitCode() {
        Optional<String> text = readString(EXIT_CODE);
        if (text.isEmpty()) {
            return OptionalInt.empty();
        }
        try {
            return OptionalInt.of(Integer.parseInt(text.get().strip()));
        } catch (NumberFormatException e) {
            // Written atomically, so this is someone else's file; treat it as a failure code.
            return OptionalInt.of(-1);
        }
    }

    /** Whether an exit code was recorded. */
    public boolean hasExitCode() {
        return Files.exists(file(EXIT_CODE));
    }

    /** Whether a cancel was asked for. */
    public boolean cancelRequested() {
        return Files.exists(file(CANCELLED));
    }

    /** The pid file, or empty properties when it is not there yet. */
    public Properties pids() {
        return readProperties(PID);
    }

    /** The metadata, or empty properties when it is not there. */
    public Properties metadata() {
        return readProperties(METADATA);
    }

    /** A file's modification time, if it exists. */
    public Optional<Instant> modified(String name) {
        try {
            return Optional.of(Files.getLastModifiedTime(file(name)).toInstant());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** A file's text, or empty when it does not exist. */
    public Optional<String> readString(String name) {
        try {
            return Optional.of(Files.readString(file(name), StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file(name), e);
        }
    }

    /** A properties file, or empty properties when it does not exist. */
    public Properties readProperties(String name) {
        Properties props = new Properties();
        readString(name).ifPresent(text -> {
            try {
                props.load(new StringReader(text));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        return props;
    }

    /** Writes a properties file atomically. */
    public void writeProperties(String name, Properties props) throws IOException {
        StringWriter out = new StringWriter();
        props.store(out, null);
        writeAtomically(file(name), out.toString());
    }

    /**
     * Writes {@code text} to {@code target} so that readers see either the old file or the whole
     * new one: a temporary file in the same directory, forced to disk, then renamed.
     */
    public static void writeAtomically(Path target, String text) throws IOException {
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp-" + ProcessHandle.current().pid() + "-"
                + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        try {
            PrivateFiles.createFile(tmp);
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            try (var channel = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
                channel.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * A live process that is the one recorded: same pid and same start time, so that a reused pid
     * is never mistaken for the job's process.
     *
     * @param pidKey   the property holding the pid
     * @param startKey the property holding the start time in epoch milliseconds
     */
    public Optional<ProcessHandle> liveProcess(Properties pids, String pidKey, String startKey) {
        String pid = pids.getProperty(pidKey);
        if (pid == null) {
            return Optional.empty();
        }
        long recordedStart;
        long parsedPid;
        try {
            parsedPid = Long.parseLong(pid.strip());
            recordedStart = Long.parseLong(pids.getProperty(startKey, "-1").strip());
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        return ProcessHandle.of(parsedPid)
                .filter(ProcessHandle::isAlive)
                .filter(h -> recordedStart < 0
                        || h.info().startInstant().map(Instant::toEpochMilli).orElse(recordedStart) == recordedStart);
    }

    /** Pid file keys. */
    public static final String RUNNER_PID = "runner.pid";
    /** Pid file keys. */
    public static final String RUNNER_START = "runner.start";
    /** Pid file keys. */
    public static final String COMMAND_PID = "pid";
    /** Pid file keys. */
    public static final String COMMAND_START = "start";
    /** Pid file key: when the runner started the command (epoch ms), known even when the process was too quick to inspect. */
    public static final String STARTED_AT = "startedAt";

    /** The runner process, when it is alive. */
    public Optional<ProcessHandle> liveRunner(Properties pids) {
        return liveProcess(pids, RUNNER_PID, RUNNER_START);
    }

    /** The command process, when it is alive. */
    public Optional<ProcessHandle> liveCommand(Properties pids) {
        return liveProcess(pids, COMMAND_PID, COMMAND_START);
    }
}
