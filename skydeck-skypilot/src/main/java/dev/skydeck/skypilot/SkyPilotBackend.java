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

    private final ApiClient api;
    private final PendingLaunches pending;
    private final String template;
    private final String gitRepo;
    private final boolean allUsers;
    private final int pageSize;
    private final Duration launchTimeout;
    private final Duration callTimeout;

    private SkyPilotBackend(Builder b, ServerConfig config) {
        this.api = new ApiClient(config, b.connectTimeout, b.readTimeout, b.clock, new SplittableRandom(),
                b.statusPollMin, b.statusPollMax, b.maxAttempts);
        this.pending = new PendingLaunches(b.home.resolve("skypilot").resolve("pending-launches"));
        this.template = b.template;
        this.gitRepo = b.gitRepo;
        this.allUsers = b.allUsers;
        this.pageSize = b.pageSize;
        this.launchTimeout = b.launchTimeout;
        this.callTimeout = b.callTimeout;
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

    @Override
    public BackendJob launch(LaunchRequest request) {
        String requestId = pending.get(request.launchId()).orElse(null);
        if (requestId != null) {
            log.info("Following the pending SkyPilot launch request {} of {} instead of submitting again", requestId,
                    request.experimentName());
        } else {
            String task = TaskYaml.render(request, request.taskTemplate() != null ? request.taskTemplate() : template,
                    gitRepo);
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("task", task);
            body.put("name", JobNames.of(request.experimentName()));
            body.put("pool", null);
            body.put("num_jobs", null);
            body.put("entrypoint_command", "skydeck launch " + request.experimentName());
            requestId = api.submit("/jobs/launch", body);
            pending.put(request.launchId(), requestId);
        }
        ApiClient.Result result;
        try {
            result = api.await(requestId, launchTimeout);
        } catch (BackendException e) {
            if (e instanceof ApiClient.ResubmitException || e instanceof ApiClient.UnknownRequestException) {
                // The server lost the request: only resubmit if the job never appeared.
                Optional<BackendJob> existing = findInQueue(request.launchId());
                if (existing.isPresent()) {
                    pending.remove(request.launchId());
                    return existing.get();
                }
                pending.remove(request.launchId());
                throw new BackendException("SkyPilot lost the launch request of " + request.experimentName()
                        + " (" + e.getMessage() + "); it will be submitted again", true, e);
            }
            throw e;
        }
        pending.remove(request.launchId());
        if ("FAILED".equals(result.status())) {
            throw BackendException.permanent("SkyPilot could not launch " + request.experimentName() + ": "
                    + result.errorType() + ": " + result.errorMessage());
        }
        if ("CANCELLED".equals(result.status())) {
            throw BackendException.permanent("the SkyPilot launch request of " + request.experimentName()
                    + " was cancelled on the server");
        }
        String jobId = result.value() == null ? null : JobRecords.jobId(result.value());
        if (jobId == null) {
            throw BackendException.permanent("SkyPilot launched " + request.experimentName()
                    + " but returned no job id: " + result.value());
        }
        log.info("SkyPilot accepted {} as managed job {}", request.experimentName(), jobId);
        return new BackendJob(jobId, request.experimentName(), request.launchId(), null,
                JobObservation.of(JobStatus.PENDING));
    }

    @Override
    public Optional<BackendJob> find(String launchId, String experimentName) {
        // A pending launch request is not a job yet: launch() follows it rather than resubmitting.
        return findInQueue(launchId);
    }

    private Optional<BackendJob> findInQueue(String launchId) {
        String token = null;
        do {
            JobPage page = list(token);
            for (BackendJob j : page.jobs()) {
                if (launchId.equals(j.launchId())) {
                    return Optional.of(j);
                }
            }
            token = page.nextPageToken();
        } while (token != null);
        return Optional.empty();
    }

    @Override
    public JobPage list(String pageToken) {
        int page;
        try {
            page = pageToken == null ? 1 : Integer.parseInt(pageToken);
        } catch (NumberFormatException e) {
            throw new SkyDeckException.InvalidInput("page token '" + pageToken + "' is not a SkyPilot page number");
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("refresh", false); // true would start a stopped jobs controller
        body.put("skip_finished", false);
        body.put("all_users", allUsers);
        body.put("job_ids", null);
        body.put("statuses", null);
        body.put("name_match", null);
        body.put("page", page);
        body.put("limit", pageSize);
        body.put("fields", null);
        ApiClient.Result result = api.await(api.submit("/jobs/queue/v2", body), callTimeout);
        if ("FAILED".equals(result.status())) {
            if ("ClusterNotUpError".equals(result.errorType())) {
                return new JobPage(List.of(), null); // no jobs controller yet: no jobs
            }
            throw new BackendException("listing SkyPilot managed jobs failed: " + result.errorType() + ": "
                    + result.errorMessage(), true);
        }
        JsonNode value = result.value();
        if (value == null) {
            return new JobPage(List.of(), null);
        }
        JsonNode records = value.isArray() ? value : value.path("jobs");
        List<BackendJob> jobs = JobRecords.jobs(records);
        long total = value.path("total").asLong(jobs.size());
        String next = value.isObject() && (long) page * pageSize < total ? Integer.toString(page + 1) : null;
        return new JobPage(jobs, next);
    }

    @Override
    public void cancel(String backendJobId) {
        long id = jobNumber(backendJobId);
        ApiClient.Result result = api.await(api.submit("/jobs/cancel", Map.of("job_ids", List.of(id))), callTimeout);
        if ("FAILED".equals(result.status())) {
            throw BackendException.permanent("SkyPilot could not cancel managed job " + id + ": " + result.errorType()
                    + ": " + result.errorMessage());
        }
    }

    @Override
    public Reader logs(String backendJobId, int tail, boolean follow) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("job_id", jobNumber(backendJobId));
        body.put("name", null);
        body.put("follow", follow);
        body.put("tail", tail);
        body.put("controller", false);
        body.put("refresh", false);
        Response r = api.stream("/jobs/logs", body, follow ? Duration.ofMinutes(2) : Duration.ofSeconds(60));
        String requestId = r.header("X-Skypilot-Request-ID", r.header("X-Request-ID"));
        return new LogReader(r, requestId);
    }

    /** Drops SkyPilot's control lines; at the end, says how the job ended when it did not succeed. */
    private final class LogReader extends Reader {
        private final Response response;
        private final BufferedReader lines;
        private final String requestId;
        private StringReader current = new StringReader("");
        private boolean done;

        LogReader(Response response, String requestId) {
            this.response = response;
            this.lines = new BufferedReader(new InputStreamReader(Objects.requireNonNull(response.body()).byteStream(),
                    StandardCharsets.UTF_8));
            this.requestId = requestId;
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
                    done = true;
                    current = new StringReader(ending());
                    continue;
                }
                String visible = line.replaceAll("<sky-payload[^>]*>.*?</sky-payload>", "");
                if (visible.isEmpty() && !line.isEmpty()) {
                    continue; // a control line (progress, heartbeat)
                }
                current = new StringReader(visible + "\n");
            }
        }

        private String ending() {
            if (requestId == null) {
                return "";
            }
            try {
                ApiClient.Result result = api.get(requestId);
                String code = result.value() == null ? null : result.value().asText();
                return switch (code == null ? "" : code) {
                    case "", "0" -> "";
                    case "100" -> "[skydeck] the job failed (SkyPilot exit code 100)\n";
                    case "101" -> "[skydeck] the job has not finished yet (SkyPilot exit code 101)\n";
                    case "102" -> "[skydeck] SkyPilot does not know this job (exit code 102)\n";
                    case "103" -> "[skydeck] the job was cancelled (SkyPilot exit code 103)\n";
                    default -> "[skydeck] log stream ended with SkyPilot exit code " + code + "\n";
                };
            } catch (SkyDeckException e) {
                return "";
            }
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
            String host = hostname;
            if (host == null) {
                try {
                    host = java.net.InetAddress.getLocalHost().getHostName();
                } catch (java.net.UnknownHostException e) {
                    host = "localhost";
                }
            }
            ServerConfig config = ServerConfig.discover(env, userHome, workdir, host);
            if (template == null && env.get("SKYDECK_TASK_TEMPLATE") != null && !env.get("SKYDECK_TASK_TEMPLATE").isBlank()) {
                Path file = Path.of(env.get("SKYDECK_TASK_TEMPLATE").strip());
                try {
                    template = Files.readString(file, StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new SkyDeckException.InvalidInput("SKYDECK_TASK_TEMPLATE=" + file + " cannot be read: "
                            + e.getMessage());
                }
            }
            if (gitRepo == null && env.get("SKYDECK_GIT_REPO") != null && !env.get("SKYDECK_GIT_REPO").isBlank()) {
                gitRepo = env.get("SKYDECK_GIT_REPO").strip();
            }
            log.debug("SkyPilot backend: {}", config);
            return new SkyPilotBackend(this, config);
        }
    }
}
