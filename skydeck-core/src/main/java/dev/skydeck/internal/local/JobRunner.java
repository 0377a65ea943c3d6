package dev.skydeck.internal.local;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * The watcher of one local job, run in its own small JVM so that it outlives SkyDeck:
 * {@code JobRunner <jobdir> -- <command…>}. It records its pid, starts the command (no shell)
 * with stdout and stderr appended to {@code output.log}, records the command's pid, waits for it
 * and writes {@code exit_code} atomically. A command killed by signal {@code S} gets the code
 * {@code 128 + S}, as a shell would report it. A command that cannot be started gets 127 and an
 * {@code error} file saying why.
 *
 * <p>Cancelling a job signals the command's process tree, never this runner, so the exit code is
 * always written. If the runner itself is asked to stop (SIGTERM), it stops the command first and
 * still records its exit code.
 *
 * <p>Uses the JDK only: its class path is just SkyDeck core's classes.
 */
public final class JobRunner {
    /** Exit code for a command that could not be started, as a shell reports "command not found". */
    public static final int CANNOT_START = 127;

    private static final long STOP_WAIT_SECONDS = 10;

    private final JobDir job;
    private final List<String> command;
    private boolean exitWritten;

    private JobRunner(JobDir job, List<String> command) {
        this.job = job;
        this.command = command;
    }

    /** Entry point: {@code <jobdir> -- <command…>}. */
    public static void main(String[] args) throws IOException {
        if (args.length < 3 || !"--".equals(args[1])) {
            System.err.println("usage: JobRunner <jobdir> -- <command...>");
            System.exit(2);
        }
        JobDir job = new JobDir(Path.of(args[0]));
        List<String> command = List.copyOf(Arrays.asList(args).subList(2, args.length));
        System.exit(new JobRunner(job, command).run());
    }

    private int run() throws IOException {
        TestHold.at(TestHold.BEFORE_PID, job.dir());
        ProcessHandle self = ProcessHandle.current();
        Properties pids = new Properties();
        pids.setProperty(JobDir.RUNNER_PID, Long.toString(self.pid()));
        pids.setProperty(JobDir.RUNNER_START, Long.toString(startMillis(self)));
        job.writeProperties(JobDir.PID, pids);

        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(job.file(JobDir.OUTPUT).toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Process process;
        try {
            pids.setProperty(JobDir.STARTED_AT, Long.toString(System.currentTimeMillis()));
            process = builder.start();
        } catch (IOException | RuntimeException e) {
            String why = "cannot start " + command.get(0) + ": " + e.getMessage();
            Files.writeString(job.file(JobDir.OUTPUT), "skydeck: " + why + System.lineSeparator(),
                    StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            JobDir.writeAtomically(job.file(JobDir.ERROR), why);
            writeExitCode(CANNOT_START);
            return 0;
        }
        ProcessHandle handle = process.toHandle();
        pids.setProperty(JobDir.COMMAND_PID, Long.toString(handle.pid()));
        pids.setProperty(JobDir.COMMAND_START, Long.toString(startMillis(handle)));
        job.writeProperties(JobDir.PID, pids);

        Runtime.getRuntime().addShutdownHook(new Thread(() -> stopAndRecord(process), "skydeck-local-runner-stop"));
        while (true) {
            try {
                writeExitCode(process.waitFor());
                return 0;
            } catch (InterruptedException e) {
                // Nobody interrupts this thread on purpose; keep waiting for the command.
            }
        }
    }

    /** On SIGTERM to the runner: stop the command tree and still record how it ended. */
    private void stopAndRecord(Process process) {
        if (!process.isAlive()) {
            return;
        }
        process.descendants().forEach(ProcessHandle::destroy);
        process.destroy();
        try {
            if (process.waitFor(STOP_WAIT_SECONDS, TimeUnit.SECONDS)) {
                writeExitCode(process.exitValue());
            }
        } catch (InterruptedException | IOException e) {
            // The JVM is going away; the backend reports a runner gone without an exit code.
        }
    }

    private synchronized void writeExitCode(int code) throws IOException {
        if (!exitWritten) {
            JobDir.writeAtomically(job.file(JobDir.EXIT_CODE), code + "\n");
            exitWritten = true;
        }
    }

    private static long startMillis(ProcessHandle handle) {
        return handle.info().startInstant().map(Instant::toEpochMilli).orElse(-1L);
    }
}
