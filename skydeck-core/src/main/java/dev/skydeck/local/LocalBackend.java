package dev.skydeck.local;

import dev.skydeck.CommandLine;
import dev.skydeck.JobStatus;
import dev.skydeck.SkyDeckException;
import dev.skydeck.SkyDeckHome;
import dev.skydeck.internal.Validate;
import dev.skydeck.internal.local.GpuSlots;
import dev.skydeck.internal.local.JobDir;
import dev.skydeck.internal.local.JobEnvironment;
import dev.skydeck.internal.local.JobRunner;
import dev.skydeck.internal.local.LogStream;
import dev.skydeck.internal.local.PrivateFiles;
import dev.skydeck.internal.local.ProcessTree;
import dev.skydeck.internal.local.TestHold;
import dev.skydeck.spi.BackendException;
import dev.skydeck.spi.BackendHealth;
import dev.skydeck.spi.BackendJob;
import dev.skydeck.spi.ClusterBackend;
import dev.skydeck.spi.JobObservation;
import dev.skydeck.spi.JobPage;
import dev.skydeck.spi.LaunchRequest;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.CodeSource;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs jobs as processes on this machine: the embedded default backend (kind {@code local}).
 *
 * <p>Each job has a directory {@code <jobs>/<launchId>/} with its metadata, its output
 * ({@code output.log}, stdout and stderr), its pids and, once it ended, its {@code exit_code}. The
 * command runs without a shell, under a small watcher JVM ({@code JobRunner}) that outlives
 * SkyDeck and records the exit code, so jobs keep running across a SkyDeck restart and a new
 * {@code LocalBackend} on the same directory adopts them.
 *
 * <p>GPUs are slots {@code 0..N-1} handed out through {@code CUDA_VISIBLE_DEVICES}; a job that
 * does not fit gets a retryable "waiting for GPUs" error, so it waits in SkyDeck's queue. Slot
 * bookkeeping is per {@code LocalBackend} instance's view of the jobs directory: two SkyDeck
 * processes launching into one directory at the same moment may hand out a slot twice.
 *
 * <p>Cancel sends SIGTERM to the command's whole process tree, then SIGKILL to what is left after
 * the grace period. Thread-safe.
 */
public final class LocalBackend implements ClusterBackend {
    /** The backend kind. */
    public static final String KIND = "local";
    /** The cluster name reported on local jobs. */
    public static final String CLUSTER_NAME = "local";

    private static final Logger log = LoggerFactory.getLogger(LocalBackend.class);
    private static final AtomicBoolean SIMULATED_LOGGED = new AtomicBoolean();
    private static final AtomicInteger THREAD_IDS = new AtomicInteger();
    /**
     * Where the process table cannot be read, a job whose runner has not reported within this time
     * after submission never started; on Linux the runner's process is looked for instead.
     */
    private static final Duration RUNNER_START_TIMEOUT = Duration.ofSeconds(30);
    private static final boolean PROCESS_TABLE = Files.isDirectory(Path.of("/proc/self"));
    /** The setting naming more variables a job gets from SkyDeck's environment. */
    public static final String ENV_PASS = "SKYDECK_LOCAL_ENV_PASS";

    private static final String M_EXPERIMENT = "experiment";
    private static final String M_LAUNCH_ID = "launchId";
    private static final String M_ATTEMPT = "attempt";
    private static final String M_COMMAND = "command";
    private static final String M_COMMAND_COUNT = "command.count";
    private static final String M_SUBMITTED = "submittedAt";
    private static final String M_GPUS = "gpus";
    private static final String M_GPU_SLOTS = "gpuSlots";
    private static final String M_WORKDIR = "workingDirectory";

    private final Path jobsDir;
    private final Path checkpointsDir;
    private final Path workingDir;
    private final Duration cancelGrace;
    private final Clock clock;
    private final GpuSlots gpus;
    private final int pageSize;
    private final List<String> runnerPrefix;
    private final Map<String, String> jobEnvironment;
    private final Set<String> passEnv;
    private final ScheduledThreadPoolExecutor scheduler;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Object launchLock = new Object();
    /** Ended jobs never change again (cancel does not mark them), so their reports are kept. */
    private final Map<String, BackendJob> ended = new ConcurrentHashMap<>();
    /** Runners this instance started that have not reported their pid yet. */
    private final Map<String, Process> starting = new ConcurrentHashMap<>();
    private final List<Runnable> changeListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    private LocalBackend(Builder b) {
        this.jobsDir = b.jobsDir.toAbsolutePath().normalize();
        this.checkpointsDir = b.checkpointsDir.toAbsolutePath().normalize();
        this.workingDir = b.workingDir.toAbsolutePath().normalize();
        this.cancelGrace = b.cancelGrace;
        this.clock = b.clock;
        this.pageSize = b.pageSize;
        this.gpus = GpuSlots.resolve(b.gpuSlots, b.environment, "nvidia-smi");
        this.jobEnvironment = Map.copyOf(b.environment);
        this.passEnv = b.passEnv != null ? b.passEnv : passSetting(b.environment.get(ENV_PASS));
        try {
            PrivateFiles.createDirectories(jobsDir);
        } catch (IOException e) {
            throw new SkyDeckException("cannot create the local jobs directory " + jobsDir + ": " + e.getMessage()
                    + "; point SKYDECK_HOME at a writable directory", false, e);
        }
        this.runnerPrefix = runnerPrefix();
        this.scheduler = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "skydeck-local-cancel-" + THREAD_IDS.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        scheduler.setRemoveOnCancelPolicy(true);
        if (gpus.simulated() && SIMULATED_LOGGED.compareAndSet(false, true)) {
            log.info("No GPU found (nvidia-smi lists none): the local backend hands out {} simulated GPU slots so that "
                    + "GPU bookkeeping works; set SKYDECK_LOCAL_GPUS=<n> or LocalBackend.builder().gpuSlots(n) "
                    + "to change it", gpus.count());
        }
        log.debug("Local backend: jobs in {}, {} GPU slots ({})", jobsDir, gpus.count(), gpus.source());
    }

    /** A builder with the defaults: jobs under SkyDeck's home, a 10 s cancel grace period. */
    public static Builder builder() {
        return new Builder();
    }

    /** A local backend with every default. */
    public static LocalBackend create() {
        return builder().build();
    }

    @Override
    public String kind() {
        return KIND;
    }

    /** The directory holding one directory per job. */
    public Path jobsDirectory() {
        return jobsDir;
    }

    /** How many GPU slots jobs share ({@code 0..gpuSlots()-1}). */
    public int gpuSlots() {
        return gpus.count();
    }

    /** Whether the GPU slots are simulated because no GPU was found. */
    public boolean gpuSlotsSimulated() {
        return gpus.simulated();
    }

    @Override
    public OptionalInt gpuCapacity() {
        return OptionalInt.of(gpus.count());
    }

    /**
     * Starts the request's command as a local process under a job runner.
     *
     * @throws BackendException permanent for more than one node, an empty command, a bad name or
     *                          more GPUs than this machine has; retryable when the GPUs are busy
     *                          or the job directory cannot be written
     */
    @Override
    public BackendJob launch(LaunchRequest request) {
        ensureOpen();
        String name = checkName(request.experimentName());
        String launchId = request.launchId();
        JobDir job = jobDir(launchId);
        if (request.nodes() > 1) {
            throw BackendException.permanent("experiment " + name + " asks for " + request.nodes()
                    + " nodes, but the local backend runs one node per job: use nodes(1), or point SkyDeck at a "
                    + "SkyPilot API server (set SKYPILOT_API_SERVER_ENDPOINT) to run on several nodes");
        }
        if (request.command().isEmpty() || request.command().get(0).isBlank()) {
            throw BackendException.permanent("experiment " + name + " has an empty command: set a base command");
        }
        if (request.gpus() < 0) {
            throw BackendException.permanent("experiment " + name + " asks for " + request.gpus() + " GPUs: use 0 or more");
        }
        if (!Files.isDirectory(workingDir)) {
            throw BackendException.permanent("the local backend's working directory " + workingDir
                    + " does not exist: create it or configure another one");
        }
        synchronized (launchLock) {
            boolean resumed = Files.isDirectory(job.dir()) && neverStarted(job);
            Optional<BackendJob> existing = resumed ? Optional.empty() : find(launchId, name);
            if (existing.isPresent()) {
                log.info("Local job {} of experiment {} already exists; not launching it twice", launchId, name);
                return existing.get();
            }
            int[] slots = allocateGpus(name, request.gpus());
            Instant submitted = clock.instant();
            if (resumed) {
                // SkyDeck stopped between creating the directory and starting its runner: no process
                // of this job ever existed, so it is started now, in the same directory, once.
                log.info("Local job {} of experiment {} was created but its runner never started (SkyDeck stopped "
                        + "meanwhile): starting it now", launchId, name);
                rewriteMetadata(job, slots, submitted);
            } else {
                prepare(job, request, name, slots, submitted);
            }
            TestHold.at(TestHold.BEFORE_RUNNER, job.dir());
            start(job, request, name, slots);
            log.info("Launched local job {} of experiment {} (attempt {}, GPUs {}): {}", launchId, name,
                    request.attempt(), slots.length == 0 ? "none" : join(slots), CommandLine.render(request.command()));
        }
        return report(job);
    }

    @Override
    public Optional<BackendJob> find(String launchId, String experimentName) {
        ensureOpen();
        if (launchId == null || !Validate.ID.matcher(launchId).matches()) {
            return Optional.empty();
        }
        JobDir job = jobDir(launchId);
        if (!Files.isDirectory(job.dir()) || neverStarted(job)) {
            return Optional.empty();
        }
        return Optional.of(report(job));
    }

    /** Jobs in directory-name order, {@code pageSize} per page; the token is the last name of a page. */
    /** One page of unfinished jobs (the same pages as {@link #list}, ended jobs left out). */
    @Override
    public JobPage listActive(String pageToken) {
        JobPage page = list(pageToken);
        return new JobPage(page.jobs().stream().filter(j -> j.observation().status().isActive()).toList(),
                page.nextPageToken());
    }

    /** These jobs by id, each read from its own directory. */
    @Override
    public List<BackendJob> jobs(java.util.Collection<String> backendJobIds) {
        ensureOpen();
        List<BackendJob> out = new ArrayList<>();
        for (String id : backendJobIds) {
            Path dir = jobsDir.resolve(id).normalize();
            if (Validate.ID.matcher(id).matches() && jobsDir.equals(dir.getParent()) && Files.isDirectory(dir)) {
                try {
                    resumeIfNeverStarted(new JobDir(dir));
                    out.add(report(new JobDir(dir)));
                } catch (UncheckedIOException e) {
                    log.warn("Cannot read local job {}: {}", id, e.getMessage());
                }
            }
        }
        return out;
    }

    @Override
    public JobPage list(String pageToken) {
        ensureOpen();
        List<String> names;
        try (Stream<Path> entries = Files.list(jobsDir)) {
            names = entries.filter(Files::isDirectory)
                    .map(p -> p.getFileName().toString())
                    .filter(n -> Validate.ID.matcher(n).matches())
                    .filter(n -> pageToken == null || n.compareTo(pageToken) > 0)
                    .sorted()
                    .limit(pageSize + 1L)
                    .collect(Collectors.toList());
        } catch (IOException e) {
            throw BackendException.transientFailure("cannot list local jobs in " + jobsDir + ": " + e.getMessage(), e);
        }
        String next = null;
        if (names.size() > pageSize) {
            names = names.subList(0, pageSize);
            next = names.get(pageSize - 1);
        }
        List<BackendJob> jobs = new ArrayList<>(names.size());
        for (String n : names) {
            try {
                JobDir job = new JobDir(jobsDir.resolve(n));
                if (neverStarted(job)) {
                    continue; // not a job yet: the launch that made it resumes it (see launch)
                }
                jobs.add(report(job));
            } catch (UncheckedIOException e) {
                log.warn("Cannot read local job {}: {}", n, e.getMessage());
            }
        }
        return new JobPage(jobs, next);
    }

    /**
     * Marks the job cancelled, sends SIGTERM to its command's process tree and schedules SIGKILL
     * for what is left after the grace period. Returns at once. A job that already ended is left
     * as it ended.
     *
     * @throws BackendException permanent when there is no such job
     */
    @Override
    public void cancel(String backendJobId) {
        ensureOpen();
        JobDir job = existingJob(backendJobId);
        String name = job.metadata().getProperty(M_EXPERIMENT, "?");
        if (job.hasExitCode()) {
            log.debug("Local job {} of experiment {} already ended; nothing to cancel", backendJobId, name);
            return;
        }
        try {
            JobDir.writeAtomically(job.file(JobDir.CANCELLED), clock.instant() + "\n");
        } catch (IOException e) {
            throw BackendException.transientFailure("cannot mark local job " + backendJobId + " of experiment " + name
                    + " cancelled: " + e.getMessage(), e);
        }
        Properties pids = job.pids();
        Set<ProcessHandle> tree = ProcessTree.terminate(job.liveRunner(pids), job.liveCommand(pids));
        log.info("Cancelling local job {} of experiment {}: SIGTERM sent to {} process(es), SIGKILL in {} s",
                backendJobId, name, tree.size(), cancelGrace.toSeconds());
        if (!tree.isEmpty()) {
            scheduler.schedule(() -> forceKill(job, name, tree), cancelGrace.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /**
     * The job's {@code output.log}: its last {@code tail} lines (0 for all) and, when
     * {@code follow}, new output until the job ends or the reader is closed.
     *
     * @throws BackendException permanent when there is no such job
     */
    @Override
    public Reader logs(String backendJobId, int tail, boolean follow) {
        ensureOpen();
        JobDir job = existingJob(backendJobId);
        Path file = job.file(JobDir.OUTPUT);
        long start;
        try {
            start = LogStream.tailOffset(file, tail);
        } catch (IOException e) {
            throw BackendException.transientFailure("cannot read the log of local job " + backendJobId + ": "
                    + e.getMessage(), e);
        }
        return new LogReader(new LogStream(file, start, follow, () -> hasEnded(job)));
    }

    @Override
    public BackendHealth health() {
        if (closed.get()) {
            return new BackendHealth(KIND, false, "local backend is closed");
        }
        if (!Files.isDirectory(jobsDir) || !Files.isWritable(jobsDir)) {
            return new BackendHealth(KIND, false, "local jobs directory " + jobsDir
                    + " is missing or not writable: point SKYDECK_HOME at a writable directory");
        }
        return new BackendHealth(KIND, true, "local processes, jobs in " + jobsDir + ", " + gpus.count()
                + " GPU slots (" + gpus.source() + ")");
    }

    /** Stops this backend's threads; idempotent. Jobs keep running and are adopted by the next instance. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            // Pending SIGKILLs are dropped; the next instance enforces them when it looks at the job.
            scheduler.shutdownNow();
        }
    }

    // --- launching ------------------------------------------------------------------------------

    private int[] allocateGpus(String name, int wanted) {
        if (wanted == 0) {
            return new int[0];
        }
        int total = gpus.count();
        if (wanted > total) {
            throw BackendException.permanent("experiment " + name + " asks for " + wanted + " GPUs, but the local "
                    + "backend has " + total + " GPU slot(s)" + (gpus.simulated() ? " (simulated)" : "")
                    + ": lower the experiment's gpus, or set SKYDECK_LOCAL_GPUS");
        }
        BitSet used = gpusInUse();
        int inUse = used.cardinality();
        if (total - inUse < wanted) {
            throw new BackendException("waiting for GPUs: " + inUse + " of " + total + " in use (experiment " + name
                    + " needs " + wanted + ")", true);
        }
        int[] slots = new int[wanted];
        int slot = -1;
        for (int i = 0; i < wanted; i++) {
            slot = used.nextClearBit(slot + 1);
            slots[i] = slot;
        }
        return slots;
    }

    private BitSet gpusInUse() {
        BitSet used = new BitSet();
        try (Stream<Path> entries = Files.list(jobsDir)) {
            entries.map(p -> p.getFileName().toString())
                    .filter(n -> Validate.ID.matcher(n).matches() && !ended.containsKey(n))
                    .map(n -> new JobDir(jobsDir.resolve(n)))
                    .filter(j -> Files.isDirectory(j.dir()))
                    .forEach(j -> {
                        String slots = j.metadata().getProperty(M_GPU_SLOTS, "");
                        if (!slots.isBlank() && !report(j).observation().status().isTerminal()) {
                            for (String s : slots.split(",")) {
                                used.set(Integer.parseInt(s.strip()));
                            }
                        }
                    });
        } catch (IOException | UncheckedIOException | NumberFormatException e) {
            throw BackendException.transientFailure("cannot count GPUs in use under " + jobsDir + ": " + e.getMessage(), e);
        }
        return used;
    }

    private void prepare(JobDir job, LaunchRequest request, String name, int[] slots, Instant submitted) {
        Path tmp = jobsDir.resolve("." + job.name() + ".creating-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        try {
            PrivateFiles.createDirectory(tmp);
            Properties meta = new Properties();
            meta.setProperty(M_EXPERIMENT, name);
            meta.setProperty(M_LAUNCH_ID, request.launchId());
            meta.setProperty(M_ATTEMPT, Integer.toString(request.attempt()));
            meta.setProperty(M_COMMAND, CommandLine.render(request.command()));
            meta.setProperty(M_COMMAND_COUNT, Integer.toString(request.command().size()));
            for (int i = 0; i < request.command().size(); i++) {
                meta.setProperty(M_COMMAND + "." + i, request.command().get(i));
            }
            meta.setProperty(M_SUBMITTED, submitted.toString());
            meta.setProperty(M_GPUS, Integer.toString(request.gpus()));
            meta.setProperty(M_GPU_SLOTS, join(slots));
            meta.setProperty(M_WORKDIR, workingDir.toString());
            new JobDir(tmp).writeProperties(JobDir.METADATA, meta);
            PrivateFiles.createFile(tmp.resolve(JobDir.OUTPUT));
            PrivateFiles.createFile(tmp.resolve(JobDir.RUNNER_LOG));
            Files.move(tmp, job.dir(), StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw BackendException.transientFailure("cannot create the directory of local job " + job.name()
                    + " of experiment " + name + " in " + jobsDir + ": " + e.getMessage(), e);
        }
    }

    private void start(JobDir job, LaunchRequest request, String name, int[] slots) {
        Path checkpoints = checkpointsDir.resolve(name).normalize();
        if (!checkpoints.getParent().equals(checkpointsDir)) {
            throw BackendException.permanent("experiment name " + name + " does not make a checkpoint directory");
        }
        List<String> argv = new ArrayList<>(runnerPrefix);
        argv.add(job.dir().toString());
        argv.add("--");
        argv.addAll(request.command());
        ProcessBuilder builder = new ProcessBuilder(argv)
                .directory(workingDir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(job.file(JobDir.RUNNER_LOG).toFile()));
        // the request's variables are the job's own (SkyDeck's SKYDECK_*, or a caller's on purpose)
        Map<String, String> own = new LinkedHashMap<>(request.env());
        own.putIfAbsent("SKYDECK_LAUNCH_ID", request.launchId());
        own.putIfAbsent("SKYDECK_EXPERIMENT", name);
        own.putIfAbsent("SKYDECK_ATTEMPT", Integer.toString(request.attempt()));
        own.put("SKYDECK_CHECKPOINT_DIR", checkpoints.toString());
        if (slots.length > 0) {
            own.put("CUDA_VISIBLE_DEVICES", join(slots));
        }
        // the runner and the command get only this: never the server's tokens, passwords or keys
        Map<String, String> env = builder.environment();
        env.clear();
        env.putAll(JobEnvironment.of(jobEnvironment, passEnv, own));
        try {
            PrivateFiles.createDirectories(checkpoints);
            Process runner = builder.start();
            starting.put(job.name(), runner);
            // The runner exits right after writing the exit code: tell listeners (the poller) at once.
            runner.onExit().thenRun(() -> {
                recordRunnerFailure(job, name, runner);
                changed();
            });
        } catch (IOException e) {
            // The job directory stays; without a runner it reports FAILED with this cause.
            writeQuietly(job.file(JobDir.ERROR), "cannot start the job runner: " + e.getMessage());
            writeQuietly(job.file(JobDir.EXIT_CODE), JobRunner.CANNOT_START + "\n");
            throw BackendException.transientFailure("cannot start local job " + job.name() + " of experiment " + name
                    + ": " + e.getMessage(), e);
        }
    }

    @Override
    public AutoCloseable onChange(Runnable listener) {
        changeListeners.add(listener);
        return () -> changeListeners.remove(listener);
    }

    private void changed() {
        for (Runnable l : changeListeners) {
            try {
                l.run();
            } catch (RuntimeException e) {
                log.warn("A listener for local job changes failed", e);
            }
        }
    }

    /** {@code [setsid] java <small-heap flags> -cp <core> JobRunner}; setsid detaches it from the terminal's signals. */
    private static List<String> runnerPrefix() {
        List<String> argv = new ArrayList<>();
        for (String setsid : List.of("/usr/bin/setsid", "/bin/setsid")) {
            if (Files.isExecutable(Path.of(setsid))) {
                argv.add(setsid);
                break;
            }
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        argv.add(Files.isExecutable(java) ? java.toString()
                : ProcessHandle.current().info().command().orElse("java"));
        argv.addAll(List.of("-Xmx16m", "-Xss512k", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-XX:-UsePerfData"));
        if (TestHold.on(TestHold.BEFORE_PID)) {
            argv.add("-D" + TestHold.PROPERTY + "=" + TestHold.BEFORE_PID);
        }
        argv.addAll(List.of("-cp", runnerClassPath(), JobRunner.class.getName()));
        return List.copyOf(argv);
    }

    private static String runnerClassPath() {
        try {
            CodeSource source = JobRunner.class.getProtectionDomain().getCodeSource();
            if (source != null && source.getLocation() != null) {
                return Path.of(source.getLocation().toURI()).toString();
            }
        } catch (URISyntaxException | IllegalArgumentException | SecurityException e) {
            // Fall back to the whole class path below.
        }
        return System.getProperty("java.class.path");
    }

    // --- reporting ------------------------------------------------------------------------------

    private BackendJob report(JobDir job) {
        return report(job, true);
    }

    /**
     * How the job is now, from its directory and processes. A runner may record its pid, run a short
     * command and exit between the reads here, so a job found without a live process is read once
     * more ({@code again}) before it is called failed: whatever its runner wrote before exiting shows.
     */
    private BackendJob report(JobDir job, boolean again) {
        BackendJob known = ended.get(job.name());
        if (known != null) {
            return known;
        }
        Properties meta = job.metadata();
        String name = meta.getProperty(M_EXPERIMENT, job.name());
        String launchId = meta.getProperty(M_LAUNCH_ID, job.name());
        Instant submitted = parseInstant(meta.getProperty(M_SUBMITTED)).orElse(null);
        OptionalInt exit = job.exitCode();
        Properties pids = job.pids();
        Instant started = parseMillis(pids.getProperty(JobDir.STARTED_AT));
        boolean cancelled = job.cancelRequested();
        JobObservation seen;
        if (exit.isPresent()) {
            starting.remove(job.name());
            int code = exit.getAsInt();
            Instant endedAt = job.modified(JobDir.EXIT_CODE).orElse(null);
            String details = code > 128 && code < 160 ? "killed by signal " + (code - 128) : null;
            if (cancelled) {
                seen = observation(JobStatus.CANCELLED, null, details, started, endedAt, code);
            } else if (code == 0) {
                seen = observation(JobStatus.SUCCEEDED, null, details, started, endedAt, code);
            } else {
                String reason = job.readString(JobDir.ERROR).map(String::strip)
                        .orElse("exited with code " + code);
                seen = observation(JobStatus.FAILED, reason, details, started, endedAt, code);
            }
            BackendJob done = new BackendJob(job.name(), name, launchId, submitted, seen);
            ended.put(job.name(), done);
            return done;
        }
        TestHold.at(TestHold.REPORT_READ, job.dir());
        Optional<ProcessHandle> runner = job.liveRunner(pids);
        Optional<ProcessHandle> command = job.liveCommand(pids);
        if (runner.isEmpty() && command.isEmpty() && again && (job.hasExitCode() || !pids.equals(job.pids()))) {
            // it moved on since the reads above (pids written, or the command already ended)
            return report(job, false);
        }
        if (runner.isPresent() || command.isPresent()) {
            starting.remove(job.name());
            if (cancelled) {
                enforceCancel(job, name, runner, command);
                seen = observation(JobStatus.CANCELLING, null, null, started, null, null);
            } else if (command.isPresent()) {
                seen = observation(JobStatus.RUNNING, null, runner.isPresent() ? null
                        : "its runner is gone, so its exit code will not be recorded", started, null, null);
            } else {
                seen = observation(JobStatus.STARTING, null, null, null, null, null);
            }
        } else if (pids.getProperty(JobDir.RUNNER_PID) == null && runnerMayStillStart(job, submitted)) {
            seen = observation(JobStatus.STARTING, null, null, null, null, null);
        } else if (cancelled) {
            seen = observation(JobStatus.CANCELLED, null, "ended without an exit code", started,
                    job.modified(JobDir.CANCELLED).orElse(null), null);
        } else if (pids.getProperty(JobDir.RUNNER_PID) == null) {
            seen = observation(JobStatus.FAILED, "the job runner did not start; see " + job.file(JobDir.RUNNER_LOG),
                    null, null, null, null);
        } else {
            seen = observation(JobStatus.FAILED, "the job's runner ended without recording an exit code (the machine "
                    + "restarted or the runner was killed); see " + job.file(JobDir.OUTPUT), null, started, null, null);
        }
        return new BackendJob(job.name(), name, launchId, submitted, seen);
    }

    private boolean runnerMayStillStart(JobDir job, Instant submitted) {
        Process process = starting.get(job.name());
        if (process != null && process.isAlive()) {
            return true;
        }
        // setsid exits 0 when it forked: the runner is its child, looked for below
        if (process != null && process.exitValue() != 0) {
            return false;
        }
        return PROCESS_TABLE ? runnerProcess(job).isPresent() : withinStartTimeout(submitted);
    }

    /**
     * Whether the job's directory was made but no runner of it ever ran, nor is starting: SkyDeck
     * stopped (a crash, {@code kill -9}) between creating it and starting the runner. Such a
     * directory is not a job yet; launching the same launch id again starts it.
     */
    private boolean neverStarted(JobDir job) {
        if (job.hasExitCode() || starting.containsKey(job.name())
                || job.pids().getProperty(JobDir.RUNNER_PID) != null || !Files.exists(job.file(JobDir.METADATA))) {
            return false;
        }
        if (PROCESS_TABLE) {
            return runnerProcess(job).isEmpty();
        }
        Instant submitted = parseInstant(job.metadata().getProperty(M_SUBMITTED)).orElse(null);
        return !withinStartTimeout(submitted);
    }

    /**
     * A job SkyDeck recorded whose runner was lost before it started the command (SkyDeck and the
     * runner both killed, say): its command never ran, so it is started now, in place, once.
     */
    private void resumeIfNeverStarted(JobDir job) {
        if (!neverStarted(job)) {
            return;
        }
        Properties meta = job.metadata();
        try {
            int count = Integer.parseInt(meta.getProperty(M_COMMAND_COUNT, "0"));
            List<String> command = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                command.add(Objects.requireNonNull(meta.getProperty(M_COMMAND + "." + i)));
            }
            launch(new LaunchRequest(meta.getProperty(M_EXPERIMENT), meta.getProperty(M_LAUNCH_ID, job.name()),
                    Integer.parseInt(meta.getProperty(M_ATTEMPT, "1")), command, null, 1,
                    Integer.parseInt(meta.getProperty(M_GPUS, "0")), null, null, null, Map.of()));
        } catch (RuntimeException e) {
            log.warn("Local job {} never started and cannot be started again: {}", job.name(), e.getMessage());
        }
    }

    /** A live runner (or the setsid about to become one) of this job directory, found by its command line. */
    private static Optional<ProcessHandle> runnerProcess(JobDir job) {
        String dir = job.dir().toString();
        String runner = JobRunner.class.getName();
        return ProcessHandle.allProcesses().filter(h -> {
            String[] args = h.info().arguments().orElse(null);
            if (args == null) {
                return false;
            }
            boolean isRunner = false;
            for (int i = 0; i < args.length; i++) {
                if (args[i].equals(runner)) {
                    isRunner = true;
                } else if (isRunner && args[i].equals(dir)) {
                    return h.isAlive();
                }
            }
            return false;
        }).findAny();
    }

    /** A runner that exited with an error before recording its pid never will: the job failed to start. */
    private void recordRunnerFailure(JobDir job, String name, Process runner) {
        int code = runner.exitValue();
        if (code == 0 || job.hasExitCode() || job.pids().getProperty(JobDir.RUNNER_PID) != null) {
            return;
        }
        String why = "the job runner did not start (it exited with code " + code + "); see " + job.file(JobDir.RUNNER_LOG);
        log.warn("Local job {} of experiment {}: {}", job.name(), name, why);
        writeQuietly(job.file(JobDir.ERROR), why + "\n");
        writeQuietly(job.file(JobDir.EXIT_CODE), JobRunner.CANNOT_START + "\n");
    }

    private void rewriteMetadata(JobDir job, int[] slots, Instant submitted) {
        Properties meta = job.metadata();
        meta.setProperty(M_SUBMITTED, submitted.toString());
        meta.setProperty(M_GPU_SLOTS, join(slots));
        try {
            job.writeProperties(JobDir.METADATA, meta);
        } catch (IOException e) {
            throw BackendException.transientFailure("cannot write the metadata of local job " + job.name() + ": "
                    + e.getMessage(), e);
        }
    }

    private static Set<String> passSetting(String value) {
        if (value == null || value.isBlank()) {
            return Set.of();
        }
        Set<String> names = new java.util.LinkedHashSet<>();
        for (String n : value.split(",")) {
            String name = n.strip();
            if (!name.isEmpty()) {
                if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                    throw Validate.invalid(ENV_PASS + " names " + name + ", which is not an environment variable name:"
                            + " list names separated by commas (NAME1,NAME2)");
                }
                names.add(name);
            }
        }
        return Set.copyOf(names);
    }

    private boolean withinStartTimeout(Instant submitted) {
        return submitted != null && clock.instant().isBefore(submitted.plus(RUNNER_START_TIMEOUT));
    }

    private static JobObservation observation(JobStatus status, String reason, String details, Instant startedAt,
                                              Instant endedAt, Integer exitCode) {
        return new JobObservation(status, status.name(), reason, details, null, startedAt, endedAt, exitCode, 0,
                CLUSTER_NAME, null, null);
    }

    private boolean hasEnded(JobDir job) {
        return closed.get() ? job.hasExitCode() : report(job).observation().status().isTerminal();
    }

    // --- cancelling -----------------------------------------------------------------------------

    private void forceKill(JobDir job, String name, Set<ProcessHandle> tree) {
        Properties pids = job.pids();
        tree.addAll(ProcessTree.snapshot(job.liveRunner(pids), job.liveCommand(pids)));
        int killed = ProcessTree.kill(tree);
        if (killed > 0) {
            log.warn("Local job {} of experiment {} outlived its {} s cancel grace period: SIGKILL sent to {} "
                    + "process(es)", job.name(), name, cancelGrace.toSeconds(), killed);
        }
    }

    /** A cancelled job still running past its grace period (say SkyDeck restarted meanwhile) is killed now. */
    private void enforceCancel(JobDir job, String name, Optional<ProcessHandle> runner, Optional<ProcessHandle> command) {
        Optional<Instant> asked = job.modified(JobDir.CANCELLED);
        if (asked.isPresent() && Instant.now().isAfter(asked.get().plus(cancelGrace).plusSeconds(1))) {
            int killed = ProcessTree.kill(ProcessTree.snapshot(runner, command));
            if (killed > 0) {
                log.warn("Local job {} of experiment {} was still running {} s after its cancel: SIGKILL sent to {} "
                        + "process(es)", job.name(), name, cancelGrace.toSeconds(), killed);
            }
        }
    }

    // --- paths and small helpers ----------------------------------------------------------------

    private JobDir jobDir(String launchId) {
        if (launchId == null || !Validate.ID.matcher(launchId).matches()) {
            throw BackendException.permanent("local job id " + (launchId == null ? "(missing)" : "'" + launchId + "'")
                    + " is not allowed: local job ids are SkyDeck launch ids (letters, digits, '.', '_', '-')");
        }
        Path dir = jobsDir.resolve(launchId).normalize();
        if (!Objects.equals(dir.getParent(), jobsDir)) {
            throw BackendException.permanent("local job id '" + launchId + "' does not name a directory inside " + jobsDir);
        }
        return new JobDir(dir);
    }

    private JobDir existingJob(String backendJobId) {
        JobDir job = jobDir(backendJobId);
        if (!Files.isDirectory(job.dir())) {
            throw BackendException.permanent("there is no local job " + backendJobId + " in " + jobsDir);
        }
        return job;
    }

    private static String checkName(String name) {
        if (name == null || !Validate.isName(name)) {
            throw BackendException.permanent("experiment name " + (name == null ? "(missing)" : "'" + name + "'")
                    + " is not allowed: " + Validate.NAME_RULE);
        }
        return name;
    }

    private void ensureOpen() {
        if (closed.get()) {
            throw new IllegalStateException("this LocalBackend is closed; create a new one (jobs kept running)");
        }
    }

    private static String join(int[] slots) {
        return Arrays.stream(slots).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }

    private static Optional<Instant> parseInstant(String text) {
        if (text == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(Instant.parse(text.strip()));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    private static Instant parseMillis(String text) {
        if (text == null) {
            return null;
        }
        try {
            long millis = Long.parseLong(text.strip());
            return millis < 0 ? null : Instant.ofEpochMilli(millis);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static void writeQuietly(Path file, String text) {
        try {
            JobDir.writeAtomically(file, text);
        } catch (IOException e) {
            log.warn("Cannot write {}: {}", file, e.getMessage());
        }
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            log.debug("Cannot remove {}: {}", dir, e.getMessage());
        }
    }

    /**
     * A UTF-8 reader over a {@link LogStream} that another thread can close while a read is
     * blocked following the log ({@link InputStreamReader#close()} alone would wait for that read).
     * Reads after close return end of stream.
     */
    private static final class LogReader extends Reader {
        private final LogStream stream;
        private final InputStreamReader decoder;
        private volatile boolean closed;

        LogReader(LogStream stream) {
            this.stream = stream;
            this.decoder = new InputStreamReader(stream, StandardCharsets.UTF_8);
        }

        @Override
        public int read(char[] buf, int off, int len) throws IOException {
            if (closed) {
                return -1;
            }
            try {
                return decoder.read(buf, off, len);
            } catch (IOException e) {
                if (closed) {
                    return -1; // closed by another thread meanwhile
                }
                throw e;
            }
        }

        @Override
        public void close() throws IOException {
            closed = true;
            stream.close(); // wakes a blocked read, which then returns -1 and frees the decoder
            decoder.close();
        }
    }

    /** Configures a {@link LocalBackend}; validated when built. */
    public static final class Builder {
        private Path jobsDir = SkyDeckHome.localJobs(SkyDeckHome.dir());
        private Path checkpointsDir = SkyDeckHome.localCheckpoints(SkyDeckHome.dir());
        private Path workingDir = Path.of(System.getProperty("user.dir"));
        private Integer gpuSlots;
        private Duration cancelGrace = Duration.ofSeconds(10);
        private Clock clock = Clock.systemUTC();
        private int pageSize = 500;
        private Map<String, String> environment = System.getenv();
        private Set<String> passEnv;

        private Builder() {
        }

        /**
         * The environment read for {@code SKYDECK_LOCAL_GPUS} and {@value LocalBackend#ENV_PASS}, and the one
         * jobs get their allow-listed variables from (PATH, HOME, USER, locale, TZ, TMPDIR,
         * {@code CUDA_*}, {@code NCCL_*}, {@code NVIDIA_*}, {@code PYTHON*} and the like); default
         * this process's. Nothing else of it reaches a job.
         */
        public Builder environment(Map<String, String> env) {
            this.environment = Map.copyOf(env);
            return this;
        }

        /**
         * More variables of {@link #environment} that jobs get, by name (a secret too: it is passed
         * because it is named here); default {@value LocalBackend#ENV_PASS}, a comma-separated list.
         */
        public Builder passEnvironment(java.util.Collection<String> names) {
            this.passEnv = Set.copyOf(names);
            return this;
        }

        /** Where job directories go; default {@code <SkyDeck home>/local/jobs}. */
        public Builder jobsDirectory(Path dir) {
            this.jobsDir = Objects.requireNonNull(dir, "dir");
            return this;
        }

        /**
         * The checkpoint root: jobs get {@code SKYDECK_CHECKPOINT_DIR=<root>/<experiment name>};
         * default {@code <SkyDeck home>/local/checkpoints}.
         */
        public Builder checkpointDirectory(Path dir) {
            this.checkpointsDir = Objects.requireNonNull(dir, "dir");
            return this;
        }

        /** The directory jobs run in; default the JVM's {@code user.dir}. */
        public Builder workingDirectory(Path dir) {
            this.workingDir = Objects.requireNonNull(dir, "dir");
            return this;
        }

        /**
         * How many GPU slots to hand out; default {@code SKYDECK_LOCAL_GPUS}, else the GPUs
         * {@code nvidia-smi -L} lists, else 8 simulated slots.
         */
        public Builder gpuSlots(int slots) {
            this.gpuSlots = Validate.range("gpu slots", slots, 0, 1024);
            return this;
        }

        /** How long a cancelled job gets between SIGTERM and SIGKILL; default 10 s. */
        public Builder cancelGracePeriod(Duration grace) {
            if (grace == null || grace.isNegative()) {
                throw Validate.invalid("cancel grace period " + grace + " is not allowed: use zero or more");
            }
            this.cancelGrace = grace;
            return this;
        }

        /** The clock for submission times; default the UTC system clock. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** Jobs per {@link LocalBackend#list(String)} page; default 500. */
        public Builder pageSize(int size) {
            this.pageSize = Validate.range("page size", size, 1, 100_000);
            return this;
        }

        /** A backend with this configuration; creates the jobs directory. */
        public LocalBackend build() {
            return new LocalBackend(this);
        }
    }
}
