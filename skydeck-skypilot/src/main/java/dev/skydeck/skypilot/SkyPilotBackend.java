package dev.skydeck.skypilot;

import com.fasterxml.jackson.databind.JsonNode;
import dev.skydeck.JobStatus;
import dev.skydeck.SkyDeckException;
import dev.skydeck.SkyDeckHome;
import dev.skydeck.skypilot.internal.ApiClient;
import dev.skydeck.skypilot.internal.JobNames;
import dev.skydeck.skypilot.internal.JobRecords;
import dev.skydeck.skypilot.internal.PendingLaunches;
import dev.skydeck.skypilot.internal.ServerConfig;
import dev.skydeck.skypilot.internal.TaskYaml;
import dev.skydeck.spi.BackendException;
import dev.skydeck.spi.BackendHealth;
import dev.skydeck.spi.BackendJob;
import dev.skydeck.spi.ClusterBackend;
import dev.skydeck.spi.JobObservation;
import dev.skydeck.spi.JobPage;
import dev.skydeck.spi.LaunchRequest;
import dev.skydeck.spi.LaunchStatus;
import dev.skydeck.spi.Submission;
import dev.skydeck.skypilot.internal.GitWorkdir;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;
import okhttp3.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs experiments as SkyPilot managed jobs through a SkyPilot API server (SKYPILOT.md): no
 * {@code sky} CLI, no SkyPilot Python, no reading SkyPilot's databases. Thread-safe.
 *
 * <pre>{@code
 * ClusterBackend sky = SkyPilotBackend.builder().build();   // endpoint and credentials as `sky` finds them
 * SkyDeck deck = SkyDeck.builder().backend(sky).build();
 * }</pre>
 */
public final class SkyPilotBackend implements ClusterBackend {
    private static final Logger log = LoggerFactory.getLogger(SkyPilotBackend.class);
    /** The backend kind. */
    public static final String KIND = "skypilot";

    /** What SkyPilot's failed-request types mean for a launch: worth submitting again, or not. */
    private static final java.util.Set<String> TRANSIENT_LAUNCH_ERRORS = java.util.Set.of("ClusterNotUpError",
            "ServerTemporarilyUnavailableError", "RequestCancelled", "ConnectionError", "TimeoutError");
    /** SkyPilot's "no controller / nothing in progress" answer: an empty listing of unfinished jobs. */
    static final String NO_CONTROLLER = "No in-progress managed jobs";
    /** SkyPilot's answer while the jobs controller is INIT or does not answer SSH: a failed call, not an empty one. */
    static final String UNREACHABLE_CONTROLLER = "Failed to connect to jobs controller";

    private final ApiClient api;
    private final PendingLaunches pending;
    private final TaskYaml.Settings taskSettings;
    private final boolean allUsers;
    private final int pageSize;
    private final Duration callTimeout;
    private final boolean restartControllerForLogs;

    private SkyPilotBackend(Builder b, ServerConfig config, TaskYaml.Settings settings) {
        this.api = new ApiClient(config, b.connectTimeout, b.readTimeout, b.clock, new SplittableRandom(),
                b.statusPollMin, b.statusPollMax, b.maxAttempts, b.unavailableWindow);
        this.pending = new PendingLaunches(b.home.resolve("skypilot").resolve("pending-launches"));
        this.taskSettings = settings;
        this.allUsers = b.allUsers;
        this.pageSize = b.pageSize;
        this.callTimeout = b.callTimeout;
        this.restartControllerForLogs = b.restartControllerForLogs;
    }

    /** A builder: endpoint and credentials discovered like the SkyPilot client. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String kind() {
        return KIND;
    }

    /** The API server's base URL. */
    public String endpoint() {
        return api.endpoint();
    }

    /** Submits the launch and waits until the job exists (for callers outside the reconciler; it uses {@link #submit}). */
    @Override
    public BackendJob launch(LaunchRequest request) {
        Submission s = submit(request);
        if (s.job() != null) {
            return s.job();
        }
        api.await(s.ref(), callTimeout.multipliedBy(6));
        LaunchStatus status = launchStatus(request.launchId(), s.ref(), request.experimentName());
        return switch (status.state()) {
            case STARTED -> status.job();
            case FAILED -> throw new BackendException(status.error(), status.retryable());
            case PENDING -> throw new BackendException("the SkyPilot launch request " + s.ref() + " of "
                    + request.experimentName() + " is still running", true);
            case UNKNOWN -> throw new BackendException("SkyPilot lost the launch request of " + request.experimentName()
                    + "; it will be submitted again", true);
        };
    }

    /**
     * Sends {@code /jobs/launch} and returns at once with the request id: the server runs the
     * launch (seconds to minutes) while SkyDeck follows it with {@link #launchStatus}. A launch id
     * this machine already sent is never sent again before the server has been asked about it:
     * the request is followed if it still runs, its job adopted if it made one.
     */
    @Override
    public Submission submit(LaunchRequest request) {
        String launchId = request.launchId();
        Optional<PendingLaunches.Marker> marker = pending.get(launchId);
        if (marker.isPresent()) {
            LaunchStatus known = launchStatus(launchId, marker.get().requestId(), request.experimentName());
            switch (known.state()) {
                case PENDING -> {
                    String ref = pending.get(launchId).map(PendingLaunches.Marker::requestId).orElse(null);
                    if (ref == null) { // only if the record vanished meanwhile: never guess, ask again later
                        throw new BackendException("the SkyPilot launch request of " + request.experimentName()
                                + " is still running; asking about it again", true);
                    }
                    log.info("Following the SkyPilot launch request {} of {} instead of submitting it again", ref,
                            request.experimentName());
                    return Submission.pending(ref, known.detail());
                }
                case STARTED -> {
                    return Submission.started(known.job());
                }
                case FAILED -> throw new BackendException(known.error(), known.retryable());
                case UNKNOWN -> log.info("SkyPilot has neither a request nor a job for launch {} of {}: submitting it",
                        launchId, request.experimentName());
            }
        }
        String task = TaskYaml.render(request, taskSettings);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("task", task);
        body.put("name", JobNames.of(request.experimentName()));
        body.put("pool", request.resources().pool());
        body.put("num_jobs", null);
        body.put("entrypoint_command", "skydeck launch " + request.experimentName());
        pending.begin(launchId);
        String requestId;
        try {
            requestId = api.submit("/jobs/launch", body);
        } catch (BackendException e) {
            if (!e.retryable()) {
                pending.remove(launchId); // refused outright: nothing was started
            }
            throw e;
        }
        pending.put(launchId, requestId);
        log.info("Submitted {} to the SkyPilot API server as launch request {}", request.experimentName(), requestId);
        return Submission.pending(requestId, "submitted to the SkyPilot API server (request " + requestId + ")");
    }

    /**
     * How a launch request is doing: one {@code /api/status} call while it runs (its stage is the
     * server's {@code status_msg}); once it finished, one {@code /api/get} for its job id or its
     * error. A request the server forgot or asks to submit again is resolved by looking for the
     * job by name: found, it is adopted; not found, the launch is unknown (and may be sent again).
     */
    @Override
    public LaunchStatus launchStatus(String launchId, String ref, String experimentName) {
        String requestId = ref;
        if (requestId == null) {
            requestId = pending.get(launchId).map(PendingLaunches.Marker::requestId).orElse(null);
        }
        if (requestId == null && pending.get(launchId).isPresent()) {
            requestId = findLaunchRequest(launchId); // sent, but its answer was lost
        }
        if (requestId != null) {
            ApiClient.RequestInfo info = api.statuses(List.of(requestId)).get(requestId);
            if (info != null && !info.finished()) {
                return LaunchStatus.pending(stage(info));
            }
            if (info != null) {
                LaunchStatus finished = finishedLaunch(launchId, requestId, experimentName);
                if (finished != null) {
                    return finished;
                }
            }
        }
        Optional<BackendJob> job = find(launchId, experimentName);
        pending.remove(launchId);
        return job.map(LaunchStatus::started).orElse(LaunchStatus.UNKNOWN);
    }

    /** The outcome of a finished launch request, or {@code null} when only the job listing can tell. */
    private LaunchStatus finishedLaunch(String launchId, String requestId, String experimentName) {
        ApiClient.Result result;
        try {
            result = api.get(requestId);
        } catch (ApiClient.ResubmitException | ApiClient.UnknownRequestException e) {
            log.info("SkyPilot lost the launch request {} of {} ({}): looking for its job", requestId, experimentName,
                    e.getMessage());
            return null;
        }
        switch (result.status() == null ? "" : result.status()) {
            case "SUCCEEDED" -> {
                String jobId = result.value() == null ? null : JobRecords.jobId(result.value());
                pending.remove(launchId);
                if (jobId == null) {
                    return LaunchStatus.failed("SkyPilot launched " + experimentName + " but returned no job id: "
                            + result.value(), false);
                }
                log.info("SkyPilot launched {} as managed job {} (request {})", experimentName, jobId, requestId);
                return LaunchStatus.started(new BackendJob(jobId, experimentName, launchId, null,
                        JobObservation.of(JobStatus.PENDING)));
            }
            case "FAILED" -> {
                pending.remove(launchId);
                boolean retry = TRANSIENT_LAUNCH_ERRORS.contains(result.errorType());
                return LaunchStatus.failed("SkyPilot could not launch " + experimentName + ": " + result.errorType()
                        + ": " + result.errorMessage(), retry);
            }
            case "CANCELLED" -> {
                return null; // by us (a stop), or by a server restart: the listing says whether a job exists
            }
            default -> {
                return LaunchStatus.pending("SkyPilot request " + requestId + " is " + result.status());
            }
        }
    }

    /** A launch request this machine sent whose answer never arrived: found among the unfinished ones by launch id. */
    private String findLaunchRequest(String launchId) {
        for (JsonNode r : api.unfinishedRequests()) {
            if ("sky.jobs.launch".equals(r.path("name").asText()) && r.path("request_body").asText("")
                    .contains(launchId)) {
                String id = r.path("request_id").asText(null);
                if (id != null) {
                    pending.put(launchId, id);
                }
                return id;
            }
        }
        return null;
    }

    private static String stage(ApiClient.RequestInfo info) {
        if (info.statusMsg() != null && !info.statusMsg().isBlank()) {
            return "SkyPilot: " + info.statusMsg().replaceAll("\u001B\\[[0-9;]*m", "").strip();
        }
        return "PENDING".equals(info.status()) ? "waiting for the SkyPilot API server to start the launch"
                : "the SkyPilot API server is launching the managed job";
    }

    /**
     * Cancels a launch request still in flight ({@code /api/cancel}). Returns {@code false} when
     * the request had already finished: its job (if any) is then cancelled as a job.
     */
    @Override
    public boolean cancelLaunch(String launchId, String ref) {
        String requestId = ref != null ? ref : pending.get(launchId).map(PendingLaunches.Marker::requestId)
                .orElse(null);
        if (requestId == null) {
            return false;
        }
        ApiClient.Result result = api.await(api.submit("/api/cancel", Map.of("request_ids", List.of(requestId)), true),
                callTimeout);
        if ("FAILED".equals(result.status())) {
            throw new BackendException("SkyPilot could not cancel the launch request " + requestId + ": "
                    + result.errorType() + ": " + result.errorMessage(), true);
        }
        boolean cancelled = false;
        if (result.value() != null && result.value().isArray()) {
            for (JsonNode id : result.value()) {
                cancelled |= requestId.equals(id.asText());
            }
        }
        if (cancelled) {
            pending.remove(launchId);
            log.info("Cancelled the SkyPilot launch request {} (launch {})", requestId, launchId);
        }
        return cancelled;
    }

    /** Looks the job up by name ({@code name_match}), not by walking every page, and matches the launch id. */
    @Override
    public Optional<BackendJob> find(String launchId, String experimentName) {
        int page = 1;
        while (true) {
            // the job's name on SkyPilot: the experiment's, or one derived from it that SkyPilot accepts
            Map<String, Object> body = queueBody(false, null, JobNames.of(experimentName), page,
                    JobRecords.FIELDS_WITH_YAML);
            JsonNode value = queue(body, "looking up " + experimentName);
            for (BackendJob j : JobRecords.jobs(value.path("jobs"))) {
                if (launchId.equals(j.launchId())) {
                    return Optional.of(j);
                }
            }
            if ((long) page * pageSize >= value.path("total").asLong(0)) {
                return Optional.empty();
            }
            page++;
        }
    }

    @Override
    public JobPage list(String pageToken) {
        return listing(pageToken, false);
    }

    /** Unfinished jobs only ({@code skip_finished}): the routine poll. */
    @Override
    public JobPage listActive(String pageToken) {
        return listing(pageToken, true);
    }

    private JobPage listing(String pageToken, boolean skipFinished) {
        int page;
        try {
            page = pageToken == null ? 1 : Integer.parseInt(pageToken);
        } catch (NumberFormatException e) {
            throw new SkyDeckException.InvalidInput("page token '" + pageToken + "' is not a SkyPilot page number");
        }
        JsonNode value;
        try {
            value = queue(queueBody(skipFinished, null, null, page, JobRecords.FIELDS), "listing managed jobs");
        } catch (ControllerNotUp e) {
            return new JobPage(List.of(), null); // nothing in progress; finished jobs SkyDeck holds active: jobs()
        }
        List<BackendJob> jobs = JobRecords.jobs(value.path("jobs"));
        long total = value.path("total").asLong(jobs.size());
        String next = (long) page * pageSize < total ? Integer.toString(page + 1) : null;
        return new JobPage(jobs, next);
    }

    /**
     * These jobs by id ({@code job_ids}), finished ones included. When the controller is stopped
     * (it autostops once nothing runs) and SkyDeck still holds some of them unfinished, it asks
     * again with {@code refresh}, which starts the controller, as {@code sky jobs queue -r} does:
     * only the controller knows how they ended.
     */
    @Override
    public List<BackendJob> jobs(java.util.Collection<String> backendJobIds) {
        if (backendJobIds.isEmpty()) {
            return List.of();
        }
        List<Long> ids = backendJobIds.stream().filter(id -> id.matches("[0-9]{1,18}")).map(Long::parseLong).distinct()
                .toList(); // an id that is no managed-job number is unknown here, not an error
        if (ids.isEmpty()) {
            return List.of();
        }
        List<BackendJob> out = new java.util.ArrayList<>();
        for (int from = 0; from < ids.size(); from += pageSize) {
            List<Long> chunk = ids.subList(from, Math.min(ids.size(), from + pageSize));
            Map<String, Object> body = queueBody(false, chunk, null, 1, JobRecords.FIELDS);
            JsonNode value;
            try {
                value = queue(body, "looking up managed jobs " + chunk);
            } catch (ControllerNotUp e) {
                log.info("The SkyPilot jobs controller is stopped while SkyDeck holds jobs {} unfinished: asking again"
                        + " with refresh, which starts the controller", chunk);
                body.put("refresh", true);
                try {
                    value = queue(body, "looking up managed jobs " + chunk + " (refresh)");
                } catch (ControllerGone gone) {
                    continue; // no controller at all: SkyPilot has no such jobs
                }
            }
            out.addAll(JobRecords.jobs(value.path("jobs")));
        }
        return out;
    }

    private Map<String, Object> queueBody(boolean skipFinished, List<Long> jobIds, String nameMatch, int page,
                                          List<String> fields) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("refresh", false); // true would start a stopped jobs controller
        body.put("skip_finished", skipFinished);
        body.put("all_users", allUsers);
        body.put("job_ids", jobIds);
        body.put("statuses", null);
        body.put("name_match", nameMatch);
        body.put("page", page);
        body.put("limit", jobIds != null ? Math.max(1, jobIds.size()) : pageSize);
        body.put("fields", fields);
        return body;
    }

    /** The controller is stopped or absent ("No in-progress managed jobs."): nothing is in progress. */
    private static final class ControllerNotUp extends BackendException {
        private static final long serialVersionUID = 1L;

        ControllerNotUp(String message) {
            super(message, true);
        }
    }

    /** {@code refresh} found no controller to start: there are no managed jobs at all. */
    private static final class ControllerGone extends BackendException {
        private static final long serialVersionUID = 1L;

        ControllerGone(String message) {
            super(message, false);
        }
    }

    /**
     * One {@code /jobs/queue/v2} request. A {@code ClusterNotUpError} means three things, told
     * apart by its message: no controller or a stopped one ("No in-progress managed jobs.": an
     * empty answer for unfinished jobs, {@link ControllerNotUp} otherwise); an unreachable one
     * ("Failed to connect to jobs controller": a failed call that changes nothing).
     */
    private JsonNode queue(Map<String, Object> body, String what) {
        ApiClient.Result result = api.await(api.submit("/jobs/queue/v2", body, true), callTimeout);
        if ("FAILED".equals(result.status())) {
            String message = result.errorMessage();
            if ("ClusterNotUpError".equals(result.errorType()) && message != null
                    && message.contains(NO_CONTROLLER)) {
                if (Boolean.TRUE.equals(body.get("skip_finished")) || body.get("name_match") != null) {
                    return EMPTY_QUEUE;
                }
                throw new ControllerNotUp(what + ": the SkyPilot jobs controller is stopped or absent (" + message + ")");
            }
            if ("ClusterDoesNotExist".equals(result.errorType())) {
                throw new ControllerGone(what + ": " + message);
            }
            if ("ClusterNotUpError".equals(result.errorType()) && message != null
                    && message.contains(UNREACHABLE_CONTROLLER)) {
                throw new BackendException(what + " failed: the SkyPilot jobs controller is unreachable (" + message
                        + "); nothing changed, SkyDeck asks again at the next poll", true);
            }
            throw new BackendException(what + " failed: " + result.errorType() + ": " + message, true);
        }
        JsonNode value = result.value();
        if (value == null) {
            return EMPTY_QUEUE;
        }
        if (value.isArray()) { // servers before queue v2 paging
            com.fasterxml.jackson.databind.node.ObjectNode wrapped = EMPTY_QUEUE.deepCopy();
            wrapped.set("jobs", value);
            wrapped.put("total", value.size());
            return wrapped;
        }
        return value;
    }

    private static final com.fasterxml.jackson.databind.node.ObjectNode EMPTY_QUEUE =
            new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode().put("total", 0)
                    .set("jobs", new com.fasterxml.jackson.databind.ObjectMapper().createArrayNode());

    /**
     * Sends {@code /jobs/cancel}, then checks the job's status: SkyPilot skips jobs of another
     * workspace silently (the request still succeeds), so a cancel that did not take is reported
     * with the reason instead of being counted as sent.
     */
    @Override
    public void cancel(String backendJobId) {
        long id = jobNumber(backendJobId);
        ApiClient.Result result = api.await(api.submit("/jobs/cancel", Map.of("job_ids", List.of(id)), true),
                callTimeout);
        if ("FAILED".equals(result.status())) {
            String message = result.errorMessage();
            if ("ClusterNotUpError".equals(result.errorType()) && message != null
                    && !message.contains(UNREACHABLE_CONTROLLER)) {
                log.info("SkyPilot has nothing to cancel for managed job {}: {}", id, message);
                return; // a stopped or absent controller: every job has finished
            }
            throw new BackendException("SkyPilot could not cancel managed job " + id + ": " + result.errorType() + ": "
                    + message, message != null && message.contains(UNREACHABLE_CONTROLLER));
        }
        Map<String, Object> body = queueBody(false, List.of(id), null, 1, List.of("job_id", "status", "workspace"));
        JsonNode record;
        try {
            JsonNode records = queue(body, "checking the cancel of managed job " + id).path("jobs");
            record = records.isArray() && !records.isEmpty() ? records.get(0) : null;
        } catch (BackendException e) {
            log.debug("Could not check the cancel of managed job {}: {}", id, e.getMessage());
            return; // sent; the next poll shows whether it took
        }
        if (record == null) {
            return;
        }
        JobStatus status = JobRecords.status(record.path("status").asText(null));
        String workspace = record.path("workspace").asText("");
        String active = api.config().client().activeWorkspace();
        if (!status.isTerminal() && status != JobStatus.CANCELLING && !workspace.isEmpty()
                && !workspace.equals(active)) {
            throw BackendException.permanent("SkyPilot skipped the cancel of managed job " + id + ": the job is in"
                    + " workspace '" + workspace + "' and SkyDeck's requests run in workspace '" + active + "'; set"
                    + " active_workspace: " + workspace + " in ~/.sky/config.yaml or .sky.yaml (or cancel it with"
                    + " `sky jobs cancel " + id + "` in that workspace)");
        }
    }

    /** A job's log ({@code tail} 0: every line, sent as {@code null} as released servers require). */
    @Override
    public Reader logs(String backendJobId, int tail, boolean follow) {
        return logs(backendJobId, tail, follow, false);
    }

    /** The jobs controller's log of a job: its provisioning, recoveries and cancels. */
    @Override
    public Reader controllerLogs(String backendJobId, int tail, boolean follow) {
        return logs(backendJobId, tail, follow, true);
    }

    private Reader logs(String backendJobId, int tail, boolean follow, boolean controller) {
        if (tail < 0) {
            throw new SkyDeckException.InvalidInput("tail " + tail + " is not allowed: use 0 (all lines) or more");
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("job_id", jobNumber(backendJobId));
        body.put("name", null);
        body.put("follow", follow);
        body.put("tail", tail == 0 ? null : tail); // released servers `assert tail > 0` for finished jobs
        body.put("controller", controller);
        body.put("refresh", false);
        return new LogReader(body, backendJobId);
    }

    /**
     * The log text of {@code /jobs/logs} without SkyPilot's control lines. A
     * {@code <retry>} line (the server restarting) makes it reconnect and go on from the line it
     * reached, as the official client's resumable streams do. At the end it says how the job
     * ended when it did not succeed, and why the log is unavailable when it is.
     */
    private final class LogReader extends Reader {
        private static final String RETRY = "<sky-payload>\"<retry></retry>\"</sky-payload>";
        private static final int MAX_RECONNECTS = 20;
        private final Map<String, Object> body;
        private final String jobId;
        private Response response;
        private BufferedReader lines;
        private String requestId;
        private StringReader current = new StringReader("");
        private boolean done;
        private long emitted;
        private long skip;
        private int reconnects;
        private boolean refreshed;

        LogReader(Map<String, Object> body, String jobId) {
            this.body = body;
            this.jobId = jobId;
            open();
        }

        private void open() {
            Duration timeout = Boolean.TRUE.equals(body.get("follow")) ? Duration.ofMinutes(2) : Duration.ofSeconds(60);
            response = api.stream("/jobs/logs", body, timeout);
            requestId = response.header("X-Skypilot-Request-ID", response.header("X-Request-ID"));
            lines = new BufferedReader(new InputStreamReader(Objects.requireNonNull(response.body()).byteStream(),
                    StandardCharsets.UTF_8));
        }

        @Override
        public int read(char[] buf, int off, int len) throws IOException {
            while (true) {
                int n = current.read(buf, off, len);
                if (n > 0) {
                    return n;
                }
                if (done) {
                    return -1;
                }
                String line = lines.readLine();
                if (line == null) {
                    String ending = ending();
                    if (ending == null) {
                        continue; // reconnected
                    }
                    done = true;
                    current = new StringReader(ending);
                    continue;
                }
                if (line.contains(RETRY)) {
                    reconnect("the SkyPilot API server asked to reconnect");
                    continue;
                }
                String visible = line.replaceAll("<sky-payload[^>]*>.*?</sky-payload>", "");
                if (visible.isEmpty() && !line.isEmpty()) {
                    continue; // a control line (progress, heartbeat)
                }
                if (skip > 0) {
                    skip--;
                    continue; // sent before the reconnect
                }
                emitted++;
                current = new StringReader(visible + "\n");
            }
        }

        private void reconnect(String why) throws IOException {
            response.close();
            if (++reconnects > MAX_RECONNECTS) {
                throw new IOException("the log stream of managed job " + jobId + " was interrupted " + MAX_RECONNECTS
                        + " times; open it again");
            }
            log.debug("Reconnecting the log stream of managed job {}: {}", jobId, why);
            skip = emitted;
            emitted = 0;
            try {
                open();
            } catch (SkyDeckException e) {
                throw new IOException("could not reconnect the log stream of managed job " + jobId + ": "
                        + e.getMessage(), e);
            }
        }

        /** The closing line, or {@code null} after reconnecting to read the log again. */
        private String ending() throws IOException {
            if (requestId == null) {
                return "";
            }
            ApiClient.Result result;
            try {
                result = api.get(requestId);
            } catch (ApiClient.ResubmitException e) {
                if (Boolean.TRUE.equals(body.get("follow"))) {
                    reconnect("the server restarted");
                    return null;
                }
                return "[skydeck] the log stream was interrupted by a SkyPilot API server restart; open it again\n";
            } catch (SkyDeckException e) {
                return "[skydeck] could not get how the log stream of managed job " + jobId + " ended: "
                        + e.getMessage() + "\n";
            }
            if ("FAILED".equals(result.status())) {
                String message = result.errorMessage();
                if ("ClusterNotUpError".equals(result.errorType()) && message != null && message.contains("stopped")) {
                    if (restartControllerForLogs && !refreshed) {
                        refreshed = true;
                        body.put("refresh", true);
                        response.close();
                        open();
                        return null;
                    }
                    return "[skydeck] the log of managed job " + jobId + " is unavailable: the SkyPilot jobs controller"
                            + " is stopped (it stops itself when no job runs). SkyPilot: " + message + ". SkyDeck does"
                            + " not start it unless SKYDECK_SKYPILOT_LOGS_REFRESH=true\n";
                }
                return "[skydeck] the log of managed job " + jobId + " is unavailable: " + result.errorType() + ": "
                        + message + "\n";
            }
            String code = result.value() == null ? null : result.value().asText();
            return switch (code == null ? "" : code) {
                case "", "0" -> "";
                case "100" -> "[skydeck] the job failed (SkyPilot exit code 100)\n";
                case "101" -> "[skydeck] the job has not finished yet (SkyPilot exit code 101)\n";
                case "102" -> "[skydeck] SkyPilot does not know this job (exit code 102)\n";
                case "103" -> "[skydeck] the job was cancelled (SkyPilot exit code 103)\n";
                default -> "[skydeck] log stream ended with SkyPilot exit code " + code + "\n";
            };
        }

        @Override
        public void close() {
            response.close();
        }
    }

    @Override
    public BackendHealth health() {
        try {
            JsonNode h = api.health();
            JsonNode user = h.path("user");
            return new BackendHealth(KIND, "healthy".equals(h.path("status").asText()), "SkyPilot API server at "
                    + endpoint() + ", version " + h.path("version").asText("?") + " (API " + h.path("api_version")
                    .asText("?") + ")" + (user.isObject() ? ", user " + user.path("name").asText("?") : ""));
        } catch (SkyDeckException e) {
            return new BackendHealth(KIND, false, e.getMessage());
        }
    }

    @Override
    public void close() {
        api.close();
    }

    private static long jobNumber(String backendJobId) {
        try {
            return Long.parseLong(backendJobId);
        } catch (NumberFormatException e) {
            throw BackendException.permanent("'" + backendJobId + "' is not a SkyPilot managed-job id");
        }
    }

    /** Options; every one has a default taken from the environment as the SkyPilot client does. */
    public static final class Builder {
        private Map<String, String> env = System.getenv();
        private Path userHome = Path.of(System.getProperty("user.home"));
        private Path workdir = Path.of(System.getProperty("user.dir"));
        private String hostname;
        private Path home = SkyDeckHome.dir();
        private String template;
        private String gitRepo;
        private boolean allUsers = true;
        private int pageSize = 500;
        private Clock clock = Clock.systemUTC();
        private Duration connectTimeout = Duration.ofSeconds(10);
        private Duration readTimeout = Duration.ofSeconds(60);
        private Duration callTimeout = Duration.ofMinutes(5);
        private Duration launchTimeout = Duration.ofMinutes(30);
        private Duration statusPollMin = Duration.ofMillis(250);
        private Duration statusPollMax = Duration.ofSeconds(2);
        private int maxAttempts = 4;
        private Duration unavailableWindow = Duration.ofSeconds(600);
        private String defaultAccelerator;
        private Boolean restartControllerForLogsSet;
        private boolean restartControllerForLogs;

        private Builder() {
        }

        /** The environment to read ({@code SKYPILOT_*}, {@code SKYDECK_TASK_TEMPLATE}, {@code SKYDECK_GIT_REPO}). */
        public Builder environment(Map<String, String> value) {
            this.env = Map.copyOf(value);
            return this;
        }

        /** The user's home (where {@code .sky/} lives). */
        public Builder userHome(Path value) {
            this.userHome = value;
            return this;
        }

        /** The working directory (where a project {@code .sky.yaml} lives). */
        public Builder workingDirectory(Path value) {
            this.workdir = value;
            return this;
        }

        /** This machine's name, for the derived user hash. */
        public Builder hostname(String value) {
            this.hostname = value;
            return this;
        }

        /** SkyDeck's home, where pending launches are recorded. */
        public Builder skydeckHome(Path value) {
            this.home = value;
            return this;
        }

        /** The task template (YAML text); default {@code SKYDECK_TASK_TEMPLATE}'s file, else built in. */
        public Builder taskTemplate(String yaml) {
            this.template = yaml;
            return this;
        }

        /** A git repository used as the job's workdir; default {@code SKYDECK_GIT_REPO}. */
        public Builder gitRepo(String url) {
            this.gitRepo = url;
            return this;
        }

        /**
         * The GPU model of an experiment that asks for GPUs without naming one (and whose task
         * template names none); default {@code SKYDECK_DEFAULT_ACCELERATOR}.
         */
        public Builder defaultAccelerator(String model) {
            this.defaultAccelerator = model;
            return this;
        }

        /**
         * Whether a log whose jobs controller has stopped is read by starting the controller
         * ({@code refresh}, as {@code sky jobs logs -r}; minutes and a controller's cost) rather
         * than answered with why it is unavailable; default {@code SKYDECK_SKYPILOT_LOGS_REFRESH}, else false.
         */
        public Builder restartControllerForLogs(boolean value) {
            this.restartControllerForLogsSet = value;
            return this;
        }

        /**
         * How long a call answered with a 503 that is not the server's own "submit again" (an
         * ingress during a rolling update) is tried again, with backoff (default 600 s, as the
         * official client).
         */
        public Builder unavailableWindow(Duration value) {
            this.unavailableWindow = value;
            return this;
        }

        /** Whether listings include every user's jobs (default true). */
        public Builder allUsers(boolean value) {
            this.allUsers = value;
            return this;
        }

        /** Jobs per listing page (default 500). */
        public Builder pageSize(int value) {
            this.pageSize = value;
            return this;
        }

        /** The clock. */
        public Builder clock(Clock value) {
            this.clock = value;
            return this;
        }

        /** How often to ask for a request's status: from {@code min}, doubling up to {@code max}. */
        public Builder statusPolling(Duration min, Duration max) {
            this.statusPollMin = min;
            this.statusPollMax = max;
            return this;
        }

        /** Connect and read timeouts of each HTTP call. */
        public Builder timeouts(Duration connect, Duration read) {
            this.connectTimeout = connect;
            this.readTimeout = read;
            return this;
        }

        /** How long a queue or cancel request may take, and how long a launch request may take. */
        public Builder requestTimeouts(Duration call, Duration launch) {
            this.callTimeout = call;
            this.launchTimeout = launch;
            return this;
        }

        /** Attempts of idempotent calls on transport errors and 5xx (default 4). */
        public Builder maxAttempts(int value) {
            this.maxAttempts = value;
            return this;
        }

        /** Discovers the server and validates the options. */
        public SkyPilotBackend build() {
            if (pageSize < 1 || pageSize > 10_000) {
                throw new SkyDeckException.InvalidInput("page size " + pageSize + " is not allowed: use 1 to 10,000");
            }
            if (maxAttempts < 1 || maxAttempts > 20) {
                throw new SkyDeckException.InvalidInput("max attempts " + maxAttempts + " is not allowed: use 1 to 20");
            }
            String host = hostname != null ? hostname : ServerConfig.hostname();
            ServerConfig config = ServerConfig.discover(env, userHome, workdir, host);
            if (template == null && nonBlank(env.get("SKYDECK_TASK_TEMPLATE"))) {
                Path file = Path.of(env.get("SKYDECK_TASK_TEMPLATE").strip());
                try {
                    template = Files.readString(file, StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new SkyDeckException.InvalidInput("SKYDECK_TASK_TEMPLATE=" + file + " cannot be read: "
                            + e.getMessage());
                }
            }
            if (gitRepo == null && nonBlank(env.get("SKYDECK_GIT_REPO"))) {
                gitRepo = env.get("SKYDECK_GIT_REPO").strip();
            }
            GitWorkdir git = null;
            if (gitRepo != null) {
                if (GitWorkdir.hasCredentials(gitRepo)) {
                    throw new SkyDeckException.InvalidInput("the git repository " + GitWorkdir.redact(gitRepo)
                            + " carries credentials in its URL: remove them and set GIT_TOKEN instead (it reaches the"
                            + " job as a secret, never in the task's envs)");
                }
                git = GitWorkdir.parse(gitRepo, "SKYDECK_GIT_REPO");
            }
            String token = nonBlank(env.get("GIT_TOKEN")) ? env.get("GIT_TOKEN").strip() : null;
            String sshKey = null;
            if (nonBlank(env.get("GIT_SSH_KEY_PATH"))) {
                Path key = Path.of(env.get("GIT_SSH_KEY_PATH").strip());
                try {
                    sshKey = Files.readString(key, StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new SkyDeckException.InvalidInput("GIT_SSH_KEY_PATH=" + key + " cannot be read: "
                            + e.getMessage());
                }
            }
            String accelerator = defaultAccelerator != null ? defaultAccelerator
                    : nonBlank(env.get("SKYDECK_DEFAULT_ACCELERATOR")) ? env.get("SKYDECK_DEFAULT_ACCELERATOR").strip()
                    : null;
            if (accelerator != null && !accelerator.matches("[A-Za-z0-9][A-Za-z0-9._-]*(:[0-9]+)?")) {
                throw new SkyDeckException.InvalidInput("default accelerator '" + accelerator + "' is not a GPU model"
                        + " (e.g. H100): fix SKYDECK_DEFAULT_ACCELERATOR");
            }
            restartControllerForLogs = restartControllerForLogsSet != null ? restartControllerForLogsSet
                    : "true".equalsIgnoreCase(String.valueOf(env.get("SKYDECK_SKYPILOT_LOGS_REFRESH")).strip());
            if (unavailableWindow.isNegative()) {
                throw new SkyDeckException.InvalidInput("the unavailable window must not be negative");
            }
            TaskYaml.Settings settings = new TaskYaml.Settings(template, git, token, sshKey, accelerator);
            log.debug("SkyPilot backend: {}, {}", config, settings);
            return new SkyPilotBackend(this, config, settings);
        }

        private static boolean nonBlank(String s) {
            return s != null && !s.isBlank();
        }
    }
}
