package dev.skydeck.local;

import dev.skydeck.internal.local.JobDir;
import dev.skydeck.spi.LaunchRequest;
import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;

/** Test helpers for local jobs: requests, log reading, and killing whatever a test started. */
final class LocalJobs {
    private LocalJobs() {
    }

    static LaunchRequest request(String experiment, String launchId, int gpus, String... command) {
        return new LaunchRequest(experiment, launchId, 1, List.of(command), Map.of(), 1, gpus, null, null, null,
                Map.of("SKYDECK_LAUNCH_ID", launchId));
    }

    /** {@code sh -c script}, for tests only (main code never uses a shell). */
    static String[] sh(String script) {
        return new String[] {"sh", "-c", script};
    }

    /** A script line that waits until {@code gate} exists (polling, as a shell can). */
    static String waitFor(Path gate) {
        return "while [ ! -f '" + gate + "' ]; do sleep 0.05; done";
    }

    static String read(Reader reader) {
        try (reader) {
            StringWriter out = new StringWriter();
            reader.transferTo(out);
            return out.toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static long pid(Path file) {
        try {
            return Long.parseLong(Files.readString(file).strip());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** SIGKILL to every runner and command recorded under {@code jobsDir}, and their descendants. */
    static void killAll(Path jobsDir) {
        if (!Files.isDirectory(jobsDir)) {
            return;
        }
        try (Stream<Path> dirs = Files.list(jobsDir)) {
            for (Path dir : (Iterable<Path>) dirs::iterator) {
                JobDir job = new JobDir(dir);
                Properties pids = job.pids();
                List<ProcessHandle> all = new ArrayList<>();
                job.liveRunner(pids).ifPresent(r -> {
                    r.descendants().forEach(all::add);
                    all.add(r);
                });
                job.liveCommand(pids).ifPresent(c -> {
                    c.descendants().forEach(all::add);
                    all.add(c);
                });
                all.forEach(ProcessHandle::destroyForcibly);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
