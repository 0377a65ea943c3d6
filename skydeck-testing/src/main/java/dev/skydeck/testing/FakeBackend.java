package dev.skydeck.testing;

import dev.skydeck.JobStatus;
import dev.skydeck.spi.BackendException;
import dev.skydeck.spi.BackendHealth;
import dev.skydeck.spi.BackendJob;
import dev.skydeck.spi.ClusterBackend;
import dev.skydeck.spi.JobObservation;
import dev.skydeck.spi.JobPage;
import dev.skydeck.spi.LaunchRequest;
import dev.skydeck.spi.LaunchStatus;
import dev.skydeck.spi.Submission;
import java.io.Reader;
import java.io.StringReader;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A hand-written {@link ClusterBackend} for tests: jobs live in a map, launches and cancels are
 * recorded, failures are scripted. Several SkyDeck instances may share one (like one SkyPilot
 * server).
 */
public final class FakeBackend implements ClusterBackend {
    private final Clock clock;
    private final Map<String, BackendJob> jobs = new LinkedHashMap<>();
    private final List<LaunchRequest> launches = new ArrayList<>();
    private final List<String> cancels = new ArrayList<>();
    private final List<String> terminated = new ArrayList<>();
    private final Deque<RuntimeException> launchFailures = new ArrayDeque<>();
    private final AtomicInteger listCalls = new AtomicInteger();
    private final AtomicInteger findCalls = new AtomicInteger();
    private volatile RuntimeException listFailure;
    private volatile Consumer<LaunchRequest> afterAccept = r -> { };
    private volatile int pageSize = 100;
    private volatile boolean ignoreCancels;
    private volatile boolean slowLaunches;
    private final Map<String, LaunchRequest> pendingRequests = new LinkedHashMap<>();
    private final Map<String, LaunchStatus> failedRequests = new LinkedHashMap<>();
    private final List<String> cancelledRequests = new ArrayList<>();
    private final AtomicInteger listActiveCalls = new AtomicInteger();
    private final AtomicInteger jobsCalls = new AtomicInteger();
    private final java.util.concurrent.atomic.AtomicReference<Runnable> afterListing =
            new java.util.concurrent.atomic.AtomicReference<>();
    private volatile Consumer<String> beforeCancel = id -> { };
    private final List<String> cancelThreads = new java.util.concurrent.CopyOnWriteArrayList<>();
    private int nextId = 1;

    private final String kind;

    /** A backend whose jobs are stamped with {@code clock}. */
    public FakeBackend(Clock clock) {
        this(clock, "fake");
    }

    /** A backend that calls itself {@code kind} (to stand for {@code skypilot}, say), its jobs stamped with {@code clock}. */
    public FakeBackend(Clock clock, String kind) {
        this.clock = clock;
        this.kind = kind;
    }

    @Override
    public String kind() {
        return kind;
    }

    @Override
    public BackendJob launch(LaunchRequest request) {
        BackendJob job;
        synchronized (this) {
            RuntimeException failure = launchFailures.poll();
            if (failure != null) {
                launches.add(request);
                throw failure;
            }
            String id = Integer.toString(nextId++);
            job = new BackendJob(id, request.experimentName(), request.launchId(), clock.instant(),
                    JobObservation.of(JobStatus.PENDING));
            jobs.put(id, job);
            launches.add(request);
        }
        afterAccept.accept(request);
        return job;
    }

    /**
     * With slow launches on, {@link #submit} only takes the request (as a SkyPilot API server
     * does): the job exists once {@link #completeLaunches()} runs, and until then the request can
     * be followed with {@link #launchStatus} or cancelled with {@link #cancelLaunch}.
     */
    public void slowLaunches(boolean value) {
        this.slowLaunches = value;
    }

    @Override
    public Submission submit(LaunchRequest request) {
        if (!slowLaunches) {
            return Submission.started(launch(request));
        }
        synchronized (this) {
            RuntimeException failure = launchFailures.poll();
            launches.add(request);
            if (failure != null) {
                throw failure;
            }
            pendingRequests.put(request.launchId(), request);
        }
        return Submission.pending("req-" + request.launchId(), "waiting for the API server");
    }

    /** Finishes every launch request in flight: their jobs exist now. */
    public void completeLaunches() {
        List<LaunchRequest> done;
        synchronized (this) {
            done = new ArrayList<>(pendingRequests.values());
            pendingRequests.clear();
        }
        for (LaunchRequest r : done) {
            synchronized (this) {
                String id = Integer.toString(nextId++);
                jobs.put(id, new BackendJob(id, r.experimentName(), r.launchId(), clock.instant(),
                        JobObservation.of(JobStatus.PENDING)));
            }
        }
    }

    /** Fails the launch request in flight for {@code launchId} (no job is made). */
    public synchronized void failLaunchRequest(String launchId, String error, boolean retryable) {
        pendingRequests.remove(launchId);
        failedRequests.put(launchId, LaunchStatus.failed(error, retryable));
    }

    /** Drops the launch request in flight for {@code launchId} without a job, as a server that lost it. */
    public synchronized void loseLaunchRequest(String launchId) {
        pendingRequests.remove(launchId);
    }

    /** Launch requests in flight, by launch id. */
    public synchronized List<String> pendingLaunches() {
        return List.copyOf(pendingRequests.keySet());
    }

    /** Launch requests cancelled before their job existed, by launch id. */
    public synchronized List<String> cancelledRequests() {
        return List.copyOf(cancelledRequests);
    }

    @Override
    public synchronized LaunchStatus launchStatus(String launchId, String ref, String experimentName) {
        if (pendingRequests.containsKey(launchId)) {
            return LaunchStatus.pending("waiting for the API server");
        }
        LaunchStatus failed = failedRequests.remove(launchId);
        if (failed != null) {
            return failed;
        }
        return find(launchId, experimentName).map(LaunchStatus::started).orElse(LaunchStatus.UNKNOWN);
    }

    @Override
    public synchronized boolean cancelLaunch(String launchId, String ref) {
        if (pendingRequests.remove(launchId) != null) {
            cancelledRequests.add(launchId);
            return true;
        }
        return false;
    }

    @Override
    public JobPage listActive(String pageToken) {
        listActiveCalls.incrementAndGet();
        JobPage page = list(pageToken);
        return new JobPage(page.jobs().stream().filter(j -> j.observation().status().isActive()).toList(),
                page.nextPageToken());
    }

    @Override
    public synchronized List<BackendJob> jobs(java.util.Collection<String> backendJobIds) {
        jobsCalls.incrementAndGet();
        return backendJobIds.stream().map(jobs::get).filter(java.util.Objects::nonNull).toList();
    }

    /** {@link #listActive} calls so far (each also counts as a {@link #listCalls()} call). */
    public int listActiveCalls() {
        return listActiveCalls.get();
    }

    /** {@link #jobs} calls so far. */
    public int jobsCalls() {
        return jobsCalls.get();
    }

    @Override
    public synchronized Optional<BackendJob> find(String launchId, String experimentName) {
        findCalls.incrementAndGet();
        return jobs.values().stream().filter(j -> launchId.equals(j.launchId())).findFirst();
    }

    @Override
    public JobPage list(String pageToken) {
        listCalls.incrementAndGet();
        RuntimeException failure = listFailure;
        if (failure != null) {
            throw failure;
        }
        JobPage page;
        synchronized (this) {
            List<BackendJob> all = new ArrayList<>(jobs.values());
            int from = pageToken == null ? 0 : Integer.parseInt(pageToken);
            int to = Math.min(all.size(), from + pageSize);
            page = new JobPage(List.copyOf(all.subList(from, to)), to < all.size() ? Integer.toString(to) : null);
        }
        Runnable hook = afterListing.getAndSet(null);
        if (hook != null) {
            hook.run();
        }
        return page;
    }

    @Override
    public void cancel(String backendJobId) {
        cancelThreads.add(Thread.currentThread().getName());
        beforeCancel.accept(backendJobId);
        synchronized (this) {
            cancels.add(backendJobId);
            BackendJob j = jobs.get(backendJobId);
            if (j != null && !j.observation().status().isTerminal() && !ignoreCancels) {
                set(backendJobId, JobStatus.CANCELLED);
            }
        }
    }

    @Override
    public synchronized void terminate(String experimentName) {
        terminated.add(experimentName);
    }

    @Override
    public Reader logs(String backendJobId, int tail, boolean follow) {
        return new StringReader("log of " + backendJobId + "\n");
    }

    @Override
    public BackendHealth health() {
        return new BackendHealth("fake", true, "fake backend");
    }

    @Override
    public void close() {
    }

    // ---- scripting ----

    /** Moves a job to a status (with end time and exit code for terminal ones). */
    public synchronized void set(String backendJobId, JobStatus status) {
        BackendJob j = jobs.get(backendJobId);
        Instant now = clock.instant();
        JobObservation o = new JobObservation(status, status.name(),
                status == JobStatus.FAILED ? "exit code 1" : null, null, null,
                status == JobStatus.RUNNING ? now : j.observation().startedAt(),
                status.isTerminal() ? now : null,
                status == JobStatus.SUCCEEDED ? Integer.valueOf(0) : status == JobStatus.FAILED ? Integer.valueOf(1) : null,
                0, "fake-cluster", null, null);
        jobs.put(backendJobId, new BackendJob(j.backendJobId(), j.name(), j.launchId(), j.submittedAt(), o));
    }

    /** Adds a job launched outside SkyDeck. */
    public synchronized BackendJob addForeign(String name, JobStatus status) {
        String id = Integer.toString(nextId++);
        BackendJob job = new BackendJob(id, name, null, clock.instant(), JobObservation.of(status));
        jobs.put(id, job);
        return job;
    }

    /** Adds a job with a given backend id (one launched before SkyDeck knew this backend). */
    public synchronized BackendJob addJob(String backendJobId, String name, JobStatus status) {
        BackendJob job = new BackendJob(backendJobId, name, null, clock.instant(), JobObservation.of(status));
        jobs.put(backendJobId, job);
        return job;
    }

    /** Forgets a job (as if the backend lost it). */
    public synchronized void forget(String backendJobId) {
        jobs.remove(backendJobId);
    }

    /** The next launch fails with {@code failure}. */
    public synchronized void failNextLaunch(RuntimeException failure) {
        launchFailures.add(failure);
    }

    /** A retryable failure, as from a timeout. */
    public static BackendException timeout() {
        return new BackendException("connection timed out", true);
    }

    /** Runs after a launch was accepted, before it returns (to simulate crashes). */
    public void afterAccept(Consumer<LaunchRequest> hook) {
        this.afterAccept = hook;
    }

    /**
     * Accepts cancels without acting on them, as a SkyPilot server does for a job in another
     * workspace (the request succeeds, the job keeps running).
     */
    public void ignoreCancels(boolean value) {
        this.ignoreCancels = value;
    }

    /**
     * Runs {@code hook} once, inside the next {@link #list} call, after its page was taken and
     * before it returns (to make something happen while a listing is in flight).
     */
    public void duringNextListing(Runnable hook) {
        afterListing.set(hook);
    }

    /** Runs before each cancel is handled, on the caller's thread (to make cancels slow or fail). */
    public void beforeCancel(Consumer<String> hook) {
        this.beforeCancel = hook;
    }

    /** The names of the threads that called {@link #cancel}, in order. */
    public List<String> cancelThreads() {
        return List.copyOf(cancelThreads);
    }

    /** Listing fails with {@code failure} (or works again with {@code null}). */
    public void failListing(RuntimeException failure) {
        this.listFailure = failure;
    }

    /** Jobs per listing page. */
    public void pageSize(int value) {
        this.pageSize = value;
    }

    /** Launch requests received, failed ones included. */
    public synchronized List<LaunchRequest> launches() {
        return List.copyOf(launches);
    }

    /** Launch requests for one experiment. */
    public synchronized List<LaunchRequest> launchesOf(String name) {
        return launches.stream().filter(r -> r.experimentName().equals(name)).toList();
    }

    /** Cancelled backend ids, in order. */
    public synchronized List<String> cancels() {
        return List.copyOf(cancels);
    }

    /** Experiments torn down. */
    public synchronized List<String> terminated() {
        return List.copyOf(terminated);
    }

    /** The job the backend has for a launch id. */
    public synchronized BackendJob jobOf(String launchId) {
        return jobs.values().stream().filter(j -> launchId.equals(j.launchId())).findFirst().orElseThrow();
    }

    /** All jobs. */
    public synchronized List<BackendJob> jobs() {
        return List.copyOf(jobs.values());
    }

    /** Listing calls so far. */
    public int listCalls() {
        return listCalls.get();
    }

    /** find() calls so far. */
    public int findCalls() {
        return findCalls.get();
    }
}
