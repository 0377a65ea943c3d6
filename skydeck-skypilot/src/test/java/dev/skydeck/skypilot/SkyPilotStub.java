package dev.skydeck.skypilot;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import com.github.tomakehurst.wiremock.extension.ResponseDefinitionTransformerV2;
import com.github.tomakehurst.wiremock.http.HttpHeader;
import com.github.tomakehurst.wiremock.http.HttpHeaders;
import com.github.tomakehurst.wiremock.http.ResponseDefinition;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * A stateful SkyPilot API server on WireMock that answers as SkyPilot's server code does
 * (SKYPILOT.md, checked against {@code sky/server}, {@code sky/jobs}): every operation POST is
 * {@code 200 null} with a fresh uuid in {@code X-Skypilot-Request-ID}; requests run (a launch for
 * {@link #launchLatency}) and {@code /api/status} reports them PENDING, RUNNING, then finished,
 * with the request body readable and the {@code status_msg}; {@code /api/get} blocks until a
 * request is finished and returns the payload with {@code return_value}/{@code error} as strings
 * containing JSON (500 with {@code detail} for failures, 404 unknown, 400 ambiguous prefix, 503
 * "should be retried" after a server restart); version headers are echoed only when the request
 * carried both, and a client below the server's minimum API version gets {@code 400
 * version_mismatch}.
 *
 * <p>Managed jobs: {@code /jobs/queue/v2} honours {@code fields} (unrequested keys are null, as
 * the server's {@code ManagedJobRecord.model_dump} sends them), {@code skip_finished},
 * {@code job_ids}, {@code name_match} (a substring), {@code statuses}, paging; the jobs controller
 * can be absent, stopped or unreachable, each with SkyPilot's own {@code ClusterNotUpError}
 * message per operation, and {@code refresh: true} starts a stopped controller; cancels skip jobs
 * of another workspace (the request still succeeds, the reason is only in its log); logs
 * {@code assert tail > 0} for finished jobs (released servers), stream control lines, and can send
 * the {@code <retry>} line. Tasks are validated as the server reads them: PyYAML rules
 * ({@link PyYamlOracle}) and the task schema. An ingress in front can answer 503 with an HTML
 * page, and a redirector can answer 301/307/308. Jobs advance one status per {@link #advance()}.
 */
public final class SkyPilotStub implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    /** The server's minimum compatible API version ({@code MIN_COMPATIBLE_API_VERSION}). */
    static final int MIN_API_VERSION = 24;
    static final String CONTROLLER = "sky-jobs-controller-ab12cd34";
    private static final Set<String> TERMINAL = Set.of("SUCCEEDED", "CANCELLED", "FAILED", "FAILED_SETUP",
            "FAILED_PRECHECKS", "FAILED_NO_RESOURCE", "FAILED_CONTROLLER");
    private static final Pattern ENV_NAME = Pattern.compile("^[a-zA-Z_][a-zA-Z0-9_]*$");
    private static final Set<String> TASK_KEYS = Set.of("name", "workdir", "event_callback", "num_nodes", "resources",
            "file_mounts", "service", "pool", "setup", "run", "envs", "secrets", "volumes", "config", "_metadata",
            "managed_secrets", "volume_mounts", "api_server_access");
    /** The keys of SkyPilot's {@code ManagedJobRecord}, in its order: every one is in every record. */
    static final List<String> RECORD_KEYS = List.of("_job_id", "job_id", "task_id", "job_name", "task_name",
            "job_duration", "workspace", "status", "schedule_state", "resources", "cluster_resources",
            "cluster_resources_full", "cloud", "region", "zone", "infra", "recovery_count", "details", "failure_reason",
            "user_name", "user_hash", "submitted_at", "start_at", "end_at", "user_yaml", "entrypoint", "metadata",
            "controller_pid", "controller_pid_started_at", "dag_yaml_path", "env_file_path", "last_recovered_at",
            "run_timestamp", "priority", "priority_class", "original_user_yaml_path", "pool", "pool_hash",
            "current_cluster_name", "cluster_name_on_cloud", "job_id_on_pool_cluster", "accelerators", "labels", "links",
            "node_names", "execution", "is_job_group", "is_primary_in_job_group", "is_batch", "batch_total_batches",
            "batch_completed_batches", "internal_external_ips", "internal_services");

    /** What state the jobs controller is in. */
    enum Controller {
        /** Up and reachable. */
        UP,
        /** Never launched (or torn down). */
        ABSENT,
        /** Autostopped after being idle. */
        STOPPED,
        /** INIT or not answering SSH. */
        UNREACHABLE
    }

    /** A managed job the stub knows. */
    static final class Job {
        final long id;
        final String name;
        final String userYaml;
        final Map<String, Object> task;
        final ObjectNode metadata;
        final String userHash;
        volatile String workspace;
        volatile String pool;
        volatile List<String> path;
        volatile int step;
        final double submittedAt;
        volatile List<String> log = List.of("epoch 1/2 loss=1.0", "epoch 2/2 loss=0.5");

        Job(long id, String name, String userYaml, Map<String, Object> task, ObjectNode metadata, String userHash,
            String workspace, List<String> path, double submittedAt) {
            this.id = id;
            this.name = name;
            this.userYaml = userYaml;
            this.task = task;
            this.metadata = metadata;
            this.userHash = userHash;
            this.workspace = workspace;
            this.path = path;
            this.submittedAt = submittedAt;
        }

        String status() {
            return path.get(Math.min(step, path.size() - 1));
        }

        boolean terminal() {
            return TERMINAL.contains(status());
        }

        /** The environment the job's cluster sees: the task's envs, then its secrets. */
        @SuppressWarnings("unchecked")
        Map<String, String> clusterEnv() {
            Map<String, String> out = new LinkedHashMap<>();
            for (String key : List.of("envs", "secrets")) {
                Object m = task.get(key);
                if (m instanceof Map<?, ?> map) {
                    ((Map<String, Object>) map).forEach((k, v) -> out.put(k, v == null ? "" : v.toString()));
                }
            }
            return out;
        }

        /**
         * What {@code sky/utils/git_clone.sh} does on the cluster with those envs: {@code skip}
         * without {@code GIT_URL}, else {@code <type> <ref> from <clone url>} (the token in the URL
         * for https, as the script embeds it).
         */
        String gitClone() {
            Map<String, String> env = clusterEnv();
            String url = env.get("GIT_URL");
            if (url == null || url.isEmpty()) {
                return "skip: GIT_URL not set, the job runs in an empty ~/sky_workdir";
            }
            String clone = url;
            String token = env.get("GIT_TOKEN");
            if (token != null && !token.isEmpty() && url.startsWith("https://")) {
                clone = "https://" + token + "@" + url.substring("https://".length());
            }
            if (nonEmpty(env.get("GIT_BRANCH"))) {
                return "branch " + env.get("GIT_BRANCH") + " from " + clone;
            }
            if (nonEmpty(env.get("GIT_TAG"))) {
                return "tag " + env.get("GIT_TAG") + " from " + clone;
            }
            if (nonEmpty(env.get("GIT_COMMIT_HASH"))) {
                return "commit " + env.get("GIT_COMMIT_HASH") + " from " + clone;
            }
            return "default branch from " + clone;
        }
    }

    /** An API request the stub is running or has run. */
    private static final class Req {
        final String id;
        final String name;
        final ObjectNode body;
        volatile String status = "PENDING";
        volatile String returnValue = "null";
        volatile String error = "null";
        volatile String statusMsg;
        volatile boolean shouldRetry;
        volatile long doneAt; // System.nanoTime() when it finishes; 0 once finished
        volatile Runnable onFinish;
        final AtomicInteger statusPolls = new AtomicInteger();
        final StringBuilder log = new StringBuilder();
        final double createdAt = System.currentTimeMillis() / 1000.0;
        volatile Double finishedAt;

        Req(String id, String name, ObjectNode body) {
            this.id = id;
            this.name = name;
            this.body = body;
        }

        boolean finished() {
            return doneAt == 0;
        }

        void succeed(String value) {
            returnValue = value;
            status = "SUCCEEDED";
            finish();
        }

        void fail(String type, String message) {
            error = errorJson(type, message);
            status = "FAILED";
            finish();
        }

        void finish() {
            doneAt = 0;
            finishedAt = System.currentTimeMillis() / 1000.0;
        }
    }

    final WireMockServer server;
    final Map<Long, Job> jobs = new LinkedHashMap<>();
    private final Map<String, Req> requests = new LinkedHashMap<>();
    private final Set<String> forgotten = new LinkedHashSet<>();
    final List<String> launchedTasks = new CopyOnWriteArrayList<>();
    final List<ObjectNode> bodies = new CopyOnWriteArrayList<>();
    private final List<WireMockServer> redirectors = new CopyOnWriteArrayList<>();
    volatile List<String> nextPath = List.of("PENDING", "STARTING", "RUNNING", "SUCCEEDED");
    volatile boolean jobIdAsInt;
    volatile Controller controller = Controller.UP;
    /** How long {@code refresh: true} takes to start a stopped controller. */
    volatile Duration controllerStart = Duration.ZERO;
    volatile String failNextLaunch;
    /** How long each {@code /jobs/launch} request runs before its job exists. */
    volatile Duration launchLatency = Duration.ZERO;
    /** Launch requests stay RUNNING while set. */
    volatile boolean holdLaunches;
    /** The {@code status_msg} of running launch requests, or {@code null}. */
    volatile String launchStatusMsg;
    /** The next followed log stream stops after its first line with the {@code <retry>} control line. */
    volatile boolean retryNextFollowedLog;
    /** Requests left that an ingress in front answers with an HTML 503 (they never reach the server). */
    final AtomicInteger ingressUnavailable = new AtomicInteger();
    /** The server's API version, echoed in its headers and health. */
    volatile int serverApiVersion = 55;
    /** Clients below this API version get {@code 400 version_mismatch}. */
    volatile int minClientApiVersion = MIN_API_VERSION;
    /** A {@code Set-Cookie} value sent on every response, or {@code null}. */
    volatile String setCookie;
    private long nextJobId = 1;

    /** When each job name's launch request arrived ({@link System#nanoTime()}). */
    public final Map<String, Long> launchArrivals = new ConcurrentHashMap<>();
    /** When each request of an operation first arrived ({@link System#nanoTime()}), by path. */
    public final Map<String, Long> firstArrival = new ConcurrentHashMap<>();
    /** HTTP requests served. */
    public final AtomicInteger httpRequests = new AtomicInteger();
    /** Bytes of request and response bodies. */
    public final AtomicLong bytes = new AtomicLong();

    /** A stub on a random loopback port. */
    public SkyPilotStub() {
        server = new WireMockServer(WireMockConfiguration.options().dynamicPort().bindAddress("127.0.0.1")
                .containerThreads(40).extensions(new Transformer()));
        server.start();
        server.stubFor(any(anyUrl()).willReturn(aResponse().withTransformers("skypilot")));
        server.addMockServiceRequestListener((request, response) -> {
            httpRequests.incrementAndGet();
            bytes.addAndGet(request.getBody().length + response.getBody().length);
        });
    }

    /** The base URL. */
    public String endpoint() {
        return "http://127.0.0.1:" + server.port();
    }

    /** Adds {@code count} jobs in {@code status} (as if launched by hand, with a typical task). */
    public synchronized void addJobs(int count, String status) {
        for (int i = 0; i < count; i++) {
            long id = nextJobId++;
            String yaml = "name: bench-" + id + "\nresources:\n  accelerators: H100:8\n  infra: aws/us-east-1\n"
                    + "  job_recovery:\n    strategy: EAGER_NEXT_REGION\nenvs:\n  SKYDECK_LAUNCH_ID: bench-" + id
                    + "\n  SKYDECK_EXPERIMENT: bench-" + id + "\n  SKYDECK_ATTEMPT: '1'\n"
                    + "run: lt --gpus=8 --nodes=1 run=bench-" + id + " trainer.lr=0.0003 trainer.batch=512\n";
            ObjectNode metadata = JSON.createObjectNode().put("skydeck_launch_id", "bench-" + id);
            jobs.put(id, new Job(id, "bench-" + id, yaml, Map.of(), metadata, "ab12cd34", "default", List.of(status),
                    1745432150.25 + id));
        }
    }

    /** Makes each {@code /jobs/launch} request run this long before its job exists. */
    public void launchLatency(Duration value) {
        launchLatency = value;
    }

    /** Moves every unfinished job one status along its path. */
    synchronized void advance() {
        for (Job j : jobs.values()) {
            if (j.step < j.path.size() - 1) {
                j.step++;
            }
        }
    }

    /** The server restarted without its request database: every request so far is unknown (404). */
    synchronized void forgetRequests() {
        forgotten.addAll(requests.keySet());
        notifyAll();
    }

    /** The server restarted: requests in flight were interrupted and should be retried (503 from /api/get). */
    synchronized void interruptRequests() {
        for (Req r : requests.values()) {
            if (!r.finished()) {
                r.status = "CANCELLED";
                r.shouldRetry = true;
                r.onFinish = null;
                r.finish();
            }
        }
        notifyAll();
    }

    /** Lets held launch requests finish. */
    synchronized void releaseLaunches() {
        holdLaunches = false;
        notifyAll();
    }

    synchronized Job job(long id) {
        return jobs.get(id);
    }

    /** The job launched under this name (the latest). */
    synchronized Job jobNamed(String name) {
        Job found = null;
        for (Job j : jobs.values()) {
            if (j.name.equals(name)) {
                found = j;
            }
        }
        return found;
    }

    /** How many requests of an operation ({@code sky.jobs.launch}, …) were submitted. */
    public synchronized int requestCount(String name) {
        return (int) requests.values().stream().filter(r -> r.name.equals(name)).count();
    }

    /** The bodies of the requests of an operation, in order. */
    synchronized List<ObjectNode> bodiesOf(String name) {
        return requests.values().stream().filter(r -> r.name.equals(name)).map(r -> r.body).toList();
    }

    /**
     * A server in front answering every request with {@code code} and a {@code Location} on this
     * stub (an http→https ingress); returns its base URL.
     */
    String redirector(int code) {
        WireMockServer r = new WireMockServer(WireMockConfiguration.options().dynamicPort().bindAddress("127.0.0.1")
                .extensions(new ResponseDefinitionTransformerV2() {
                    @Override
                    public String getName() {
                        return "redirect";
                    }

                    @Override
                    public boolean applyGlobally() {
                        return false;
                    }

                    @Override
                    public ResponseDefinition transform(ServeEvent event) {
                        return com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder.responseDefinition()
                                .withStatus(code).withHeader("Location", endpoint() + event.getRequest().getUrl())
                                .withBody("").build();
                    }
                }));
        r.start();
        r.stubFor(any(anyUrl()).willReturn(aResponse().withTransformers("redirect")));
        redirectors.add(r);
        return "http://127.0.0.1:" + r.port();
    }

    /** Stops the servers. */
    @Override
    public void close() {
        redirectors.forEach(WireMockServer::stop);
        server.stop();
    }

    // ---- request handling ----

    private final class Transformer implements ResponseDefinitionTransformerV2 {
        @Override
        public String getName() {
            return "skypilot";
        }

        @Override
        public boolean applyGlobally() {
            return false;
        }

        @Override
        public ResponseDefinition transform(ServeEvent event) {
            var req = event.getRequest();
            String path = req.getUrl().split("\\?")[0];
            firstArrival.putIfAbsent(req.getMethod().getName() + " " + path, System.nanoTime());
            if (ingressUnavailable.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                return respond(503, "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n"
                        + "<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n"
                        + "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
                        List.of(new HttpHeader("Content-Type", "text/html")));
            }
            List<HttpHeader> headers = new ArrayList<>();
            headers.add(new HttpHeader("Content-Type", "application/json"));
            headers.add(new HttpHeader("X-Skypilot-Request-ID", UUID.randomUUID().toString()));
            if (setCookie != null) {
                headers.add(new HttpHeader("Set-Cookie", setCookie));
            }
            boolean versioned = req.containsHeader("X-SkyPilot-API-Version") && req.containsHeader("X-SkyPilot-Version");
            if (versioned) {
                headers.add(new HttpHeader("X-SkyPilot-API-Version", Integer.toString(serverApiVersion)));
                headers.add(new HttpHeader("X-SkyPilot-Version", "1.0.0-dev0"));
                int client;
                try {
                    client = Integer.parseInt(req.getHeader("X-SkyPilot-API-Version"));
                } catch (NumberFormatException e) {
                    return respond(500, "{\"detail\":\"Header X-SkyPilot-API-Version is not a valid API version.\"}",
                            headers);
                }
                if (client < minClientApiVersion) {
                    ObjectNode body = JSON.createObjectNode().put("error", "version_mismatch").put("message",
                            "\u001B[33mYour SkyPilot client version is too old:" + req.getHeader("X-SkyPilot-Version")
                                    + "\n\u001B[0mThe server is running on 1.0.0-dev0 (commit: 059757f) and the minimum"
                                    + " compatible version is 0.11.0.\nUpgrade your client with:\n\u001B[33mpip install"
                                    + " git+https://github.com/skypilot-org/skypilot@059757f\u001B[0m");
                    return respond(400, body.toString(), headers);
                }
            }
            try {
                if (req.getMethod().getName().equals("GET") && path.equals("/api/get")) {
                    return apiGet(req.queryParameter("request_id").firstValue(), headers);
                }
                synchronized (SkyPilotStub.this) {
                    settle();
                    try {
                        return answer(req.getMethod().getName(), path, req, headers);
                    } finally {
                        SkyPilotStub.this.notifyAll(); // wakes /api/get waiters: a request may have finished
                    }
                }
            } catch (Exception e) {
                return respond(500, "{\"detail\":" + JSON.valueToTree(e.toString()) + "}", headers);
            }
        }

        private ResponseDefinition answer(String method, String path, com.github.tomakehurst.wiremock.http.Request req,
                                          List<HttpHeader> headers) throws Exception {
            if (method.equals("GET") && path.equals("/api/health")) {
                return respond(200, "{\"status\":\"healthy\",\"api_version\":\"" + serverApiVersion + "\","
                        + "\"version\":\"1.0.0-dev0\",\"version_on_disk\":\"1.0.0-dev0\",\"commit\":\"059757f\","
                        + "\"basic_auth_enabled\":false,"
                        + "\"user\":{\"id\":\"ab12cd34\",\"name\":\"alice\",\"user_type\":\"user\"},"
                        + "\"service_account_token_enabled\":true,\"ingress_basic_auth_enabled\":false,"
                        + "\"latest_version\":null,\"external_proxy_auth_enabled\":false,\"telemetry_enabled\":false}",
                        headers);
            }
            if (method.equals("GET") && path.equals("/api/status")) {
                return apiStatus(req, headers);
            }
            if (method.equals("GET") && path.equals("/api/stream")) {
                String id = req.queryParameter("request_id").firstValue();
                Req r = known(id);
                if (r == null) {
                    return respond(404, "{\"detail\":\"Request '" + id + "' not found\"}", headers);
                }
                replace(headers, "Content-Type", "text/plain");
                return respond(200, r.log.toString(), headers);
            }
            if (!method.equals("POST")) {
                return respond(404, "{\"detail\":\"Not Found\"}", headers);
            }
            if (path.equals("/jobs/launch") || path.equals("/jobs/queue/v2") || path.equals("/jobs/cancel")
                    || path.equals("/jobs/logs") || path.equals("/api/cancel")) {
                ObjectNode body = (ObjectNode) JSON.readTree(req.getBodyAsString());
                bodies.add(body);
                String missing = missingField(path, body);
                if (missing != null) {
                    return respond(422, "{\"detail\":[{\"type\":\"missing\",\"loc\":[\"body\",\"" + missing + "\"],"
                            + "\"msg\":\"Field required\",\"input\":" + body + "}]}", headers);
                }
                String requestId = UUID.randomUUID().toString();
                replace(headers, "X-Skypilot-Request-ID", requestId);
                switch (path) {
                    case "/jobs/launch" -> launch(requestId, body);
                    case "/jobs/queue/v2" -> queue(requestId, body);
                    case "/jobs/cancel" -> cancelJobs(requestId, body);
                    case "/api/cancel" -> cancelRequests(requestId, body);
                    default -> {
                        return logs(requestId, body, headers);
                    }
                }
                return respond(200, "null", headers);
            }
            return respond(404, "{\"detail\":\"Not Found\"}", headers);
        }
    }

    private static String missingField(String path, ObjectNode body) {
        return switch (path) {
            case "/jobs/launch" -> body.has("name") ? body.has("task") ? null : "task" : "name";
            default -> null;
        };
    }

    /** Finishes the requests whose time has come. */
    private void settle() {
        long now = System.nanoTime();
        for (Req r : requests.values()) {
            if (!r.finished() && r.doneAt <= now && !(holdLaunches && r.name.equals("sky.jobs.launch"))) {
                Runnable f = r.onFinish;
                r.onFinish = null;
                if (f != null) {
                    f.run();
                }
                if (!r.finished()) {
                    r.succeed("null");
                }
            }
        }
    }

    private Req newRequest(String id, String name, ObjectNode body, Duration runFor, Runnable onFinish) {
        Req r = new Req(id, name, body);
        r.doneAt = System.nanoTime() + Math.max(1, runFor.toNanos());
        r.onFinish = onFinish;
        requests.put(id, r);
        return r;
    }

    private Req known(String id) {
        return forgotten.contains(id) ? null : requests.get(id);
    }

    private ResponseDefinition apiStatus(com.github.tomakehurst.wiremock.http.Request req, List<HttpHeader> headers) {
        ArrayNode out = JSON.createArrayNode();
        var ids = req.queryParameter("request_ids");
        if (ids.isPresent()) {
            for (String prefix : ids.values()) {
                for (Req r : requests.values()) {
                    if (r.id.startsWith(prefix) && !forgotten.contains(r.id)) {
                        int polls = r.statusPolls.incrementAndGet();
                        String status = r.finished() ? r.status : polls == 1 ? "PENDING" : "RUNNING";
                        out.add(readable(r, status));
                    }
                }
            }
        } else {
            boolean all = req.queryParameter("all_status").isPresent()
                    && req.queryParameter("all_status").firstValue().equals("true");
            for (Req r : requests.values()) {
                if (!forgotten.contains(r.id) && (all || !r.finished())) {
                    out.add(readable(r, r.finished() ? r.status : "RUNNING"));
                }
            }
        }
        return respond(200, out.toString(), headers);
    }

    /**
     * {@code /api/get}: waits until the request is finished, releasing the stub meanwhile. It wakes
     * when another call or a test changes the stub ({@code notifyAll}) and when the request's own
     * run time is up; a held launch ({@link #holdLaunches} set directly by a test) is looked at
     * again every 50 ms.
     */
    private ResponseDefinition apiGet(String prefix, List<HttpHeader> headers) throws InterruptedException {
        Req r;
        long giveUp = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (true) {
            synchronized (this) {
                settle();
                List<Req> matches = requests.values().stream().filter(x -> x.id.startsWith(prefix)
                        && !forgotten.contains(x.id)).toList();
                if (matches.isEmpty()) {
                    return respond(404, "{\"detail\":\"Request '" + prefix + "' not found\"}", headers);
                }
                if (matches.size() > 1) {
                    return respond(400, "{\"detail\":\"Multiple requests found for request ID prefix: " + prefix
                            + "\"}", headers);
                }
                r = matches.get(0);
                if (r.finished()) {
                    break;
                }
                long now = System.nanoTime();
                if (now > giveUp) {
                    return respond(504, "<html><title>504 Gateway Time-out</title></html>",
                            List.of(new HttpHeader("Content-Type", "text/html")));
                }
                long untilDone = holdLaunches && r.name.equals("sky.jobs.launch")
                        ? Duration.ofMillis(50).toNanos() : r.doneAt - now;
                long waitNanos = Math.max(Duration.ofMillis(1).toNanos(), Math.min(untilDone, giveUp - now));
                wait(waitNanos / 1_000_000, (int) (waitNanos % 1_000_000));
            }
        }
        if (r.shouldRetry) {
            return respond(503, "{\"detail\":\"Request '" + r.id + "' should be retried\"}", headers);
        }
        if (r.status.equals("FAILED")) {
            return respond(500, "{\"detail\":" + payload(r) + "}", headers);
        }
        return respond(200, payload(r).toString(), headers);
    }

    // ---- operations ----

    private static String activeWorkspace(ObjectNode body) {
        return body.path("override_skypilot_config").path("active_workspace").asText("default");
    }

    private void launch(String requestId, ObjectNode body) {
        String name = body.path("name").asText();
        String task = body.path("task").asText();
        launchArrivals.put(name, System.nanoTime());
        launchedTasks.add(task);
        String fail = failNextLaunch;
        failNextLaunch = null;
        List<String> path = nextPath;
        Req r = newRequest(requestId, "sky.jobs.launch", body, launchLatency, null);
        r.statusMsg = launchStatusMsg;
        r.log.append(richPayload("rich_init", "[bold cyan]Initializing managed job[/]"))
                .append(richPayload("rich_start", "[bold cyan]Initializing managed job[/]"))
                .append("Managed job '").append(name).append("' will be launched on (estimated):\n")
                .append(richPayload("rich_update", "[bold cyan]Submitting managed job[/]  "
                        + "[dim]View logs: sky api logs -l sky-2026-07-01-12-00-00-000000/provision.log"));
        r.onFinish = () -> {
            if (fail != null) {
                r.fail("ValueError", fail);
                return;
            }
            Map<String, Object> parsed;
            try {
                parsed = validateTask(task);
            } catch (IllegalArgumentException e) {
                r.fail("ValueError", e.getMessage());
                return;
            } catch (RuntimeException e) { // PyYAML could not construct it (an unquoted '=' value, …)
                r.fail("ConstructorError", String.valueOf(e.getMessage()));
                return;
            }
            if (controller == Controller.STOPPED || controller == Controller.ABSENT) {
                controller = Controller.UP; // a launch starts the controller
            }
            long id = nextJobId++;
            ObjectNode metadata = JSON.createObjectNode();
            if (parsed.get("_metadata") instanceof Map<?, ?> m) {
                m.forEach((k, v) -> metadata.put(String.valueOf(k), String.valueOf(v)));
            }
            if (parsed.get("workdir") instanceof Map<?, ?> w && w.get("ref") != null) {
                metadata.put("git_commit", String.valueOf(w.get("ref"))); // Task.expand_and_validate_workdir
            }
            Job job = new Job(id, name, redacted(parsed), parsed, metadata,
                    body.path("env_vars").path("SKYPILOT_USER_ID").asText(), activeWorkspace(body), path,
                    1745432150.25 + id);
            job.pool = body.path("pool").isTextual() ? body.path("pool").asText() : null;
            jobs.put(id, job);
            r.log.append("⚙︎ Job submitted, ID: ").append(id).append('\n');
            r.succeed("{\"job_id\":" + (jobIdAsInt ? Long.toString(id) : "[" + id + "]") + ",\"handle\":\"gAROLg==\"}");
        };
    }

    /** What the server's task parsing checks of what SkyDeck sends: PyYAML typing, then the task schema. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> validateTask(String yaml) {
        Object doc = PyYamlOracle.load(yaml);
        if (!(doc instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException("Invalid task YAML: the task must be a mapping, got " + doc);
        }
        Map<String, Object> task = (Map<String, Object>) m;
        for (String key : task.keySet()) {
            if (!TASK_KEYS.contains(key)) {
                throw new IllegalArgumentException("Invalid task YAML: Additional properties are not allowed ('" + key
                        + "' was unexpected)");
            }
        }
        string(task, "name", "name");
        string(task, "run", "run");
        string(task, "setup", "setup");
        if (task.containsKey("num_nodes") && !(task.get("num_nodes") instanceof Integer)) {
            throw new IllegalArgumentException("Invalid task YAML: " + task.get("num_nodes") + " is not of type 'integer'");
        }
        for (String key : List.of("envs", "secrets")) {
            Object v = task.get(key);
            if (v == null) {
                continue;
            }
            if (!(v instanceof Map<?, ?> env)) {
                throw new IllegalArgumentException("Invalid task YAML: " + key + " is not of type 'object'");
            }
            // Task.from_yaml_config: keys and values become str() before the schema is checked
            Map<String, Object> converted = new LinkedHashMap<>();
            env.forEach((k, x) -> converted.put(pyStr(k), x == null ? null : pyStr(x)));
            for (String k : converted.keySet()) {
                if (!ENV_NAME.matcher(k).matches()) {
                    throw new IllegalArgumentException("Invalid task YAML: '" + k + "' does not match any of"
                            + " the regexes: '^[a-zA-Z_][a-zA-Z0-9_]*$'");
                }
            }
            task.put(key, converted);
        }
        Object workdir = task.get("workdir");
        if (workdir != null && !(workdir instanceof String)) {
            if (!(workdir instanceof Map<?, ?> w) || !(w.get("url") instanceof String)
                    || w.containsKey("ref") && !(w.get("ref") instanceof String)
                    || !Set.of("url", "ref").containsAll((Set<String>) w.keySet())) {
                throw new IllegalArgumentException("Invalid task YAML: " + workdir + " is not valid under any of the"
                        + " given schemas (workdir)");
            }
        }
        Object res = task.get("resources");
        if (res != null) {
            if (!(res instanceof Map<?, ?> r)) {
                throw new IllegalArgumentException("Invalid task YAML: resources is not of type 'object'");
            }
            Object priority = r.get("priority");
            if (priority != null && (!(priority instanceof Integer p) || p < -1000 || p > 1000)) {
                throw new IllegalArgumentException("Invalid resource spec: " + priority + " is not a valid priority"
                        + " (an integer from -1000 to 1000)");
            }
            Object acc = r.get("accelerators");
            if (acc != null && !(acc instanceof String) && !(acc instanceof Map) && !(acc instanceof List)) {
                throw new IllegalArgumentException("Invalid resource spec: accelerators " + acc + " is not valid");
            }
            for (String key : List.of("infra", "instance_type", "cloud", "region", "zone")) {
                if (r.containsKey(key) && !(r.get(key) instanceof String)) {
                    throw new IllegalArgumentException("Invalid resource spec: " + r.get(key) + " is not of type"
                            + " 'string' (" + key + ")");
                }
            }
            if (r.containsKey("use_spot") && !(r.get("use_spot") instanceof Boolean)) {
                throw new IllegalArgumentException("Invalid resource spec: " + r.get("use_spot") + " is not of type"
                        + " 'boolean' (use_spot)");
            }
        }
        if (task.containsKey("_metadata") && !(task.get("_metadata") instanceof Map)) {
            throw new IllegalArgumentException("Invalid task YAML: _metadata is not of type 'object'");
        }
        return task;
    }

    /** Python's {@code str()} of what PyYAML constructed. */
    static String pyStr(Object v) {
        if (v instanceof Boolean b) {
            return b ? "True" : "False";
        }
        if (v instanceof java.util.Date d) {
            var t = d.toInstant().atOffset(java.time.ZoneOffset.UTC);
            return t.toLocalTime().toNanoOfDay() == 0 ? t.toLocalDate().toString()
                    : t.toLocalDate() + " " + t.toLocalTime();
        }
        if (v instanceof Double d) {
            return d.isNaN() ? "nan" : d.isInfinite() ? (d > 0 ? "inf" : "-inf") : Double.toString(d);
        }
        return String.valueOf(v);
    }

    private static void string(Map<String, Object> task, String key, String what) {
        if (task.containsKey(key) && !(task.get(key) instanceof String)) {
            throw new IllegalArgumentException("Invalid task YAML: " + task.get(key) + " is not of type 'string' ("
                    + what + ")");
        }
    }

    /** The task as the server shows it back ({@code user_yaml}): secrets redacted. */
    @SuppressWarnings("unchecked")
    private static String redacted(Map<String, Object> task) {
        Map<String, Object> copy = new LinkedHashMap<>(task);
        if (copy.get("secrets") instanceof Map<?, ?> s) {
            Map<String, Object> r = new LinkedHashMap<>();
            ((Map<String, Object>) s).keySet().forEach(k -> r.put(k, "<redacted>"));
            copy.put("secrets", r);
        }
        org.yaml.snakeyaml.DumperOptions o = new org.yaml.snakeyaml.DumperOptions();
        o.setDefaultFlowStyle(org.yaml.snakeyaml.DumperOptions.FlowStyle.BLOCK);
        return new org.yaml.snakeyaml.Yaml(o).dump(copy);
    }

    /** The ClusterNotUpError a jobs operation meets, or {@code null} when the controller can be used. */
    private String controllerError(String stoppedMessage) {
        return switch (controller) {
            case UP -> null;
            case ABSENT -> "No in-progress managed jobs.";
            case STOPPED -> stoppedMessage;
            case UNREACHABLE -> "Failed to connect to jobs controller, please try again later.";
        };
    }

    /** {@code refresh: true} on a stopped controller: it starts (taking {@link #controllerStart}). */
    private boolean refreshStarts(ObjectNode body) {
        return body.path("refresh").asBoolean(false) && controller == Controller.STOPPED;
    }

    private void queue(String requestId, ObjectNode body) {
        boolean starting = refreshStarts(body);
        Req r = newRequest(requestId, "sky.jobs.queue_v2", body, starting ? controllerStart : Duration.ZERO, null);
        r.onFinish = () -> {
            if (starting) {
                controller = Controller.UP;
            }
            if (body.path("refresh").asBoolean(false) && controller == Controller.ABSENT) {
                r.fail("ClusterDoesNotExist", "Cluster '" + CONTROLLER + "' does not exist.");
                return;
            }
            String notUp = controllerError("No in-progress managed jobs.");
            if (notUp != null) {
                r.fail("ClusterNotUpError", "\u001B[33m" + notUp + "\u001B[0m");
                return;
            }
            JsonNode limitNode = body.get("limit");
            JsonNode pageNode = body.get("page");
            Integer limit = limitNode == null || limitNode.isNull() ? null : limitNode.asInt();
            Integer page = pageNode == null || pageNode.isNull() ? null : pageNode.asInt();
            if (limit != null && limit < 1) {
                r.fail("ValueError", "Limit must be at least 1, got " + limit);
                return;
            }
            if (limit == null && page != null) {
                r.fail("ValueError", "Limit must be specified when page is specified");
                return;
            }
            if (limit != null && page == null) {
                page = 1;
            }
            if (page != null && page < 1) {
                r.fail("ValueError", "Page must be at least 1, got " + page);
                return;
            }
            Set<Long> ids = null;
            if (body.path("job_ids").isArray()) {
                ids = new java.util.HashSet<>();
                for (JsonNode id : body.path("job_ids")) {
                    ids.add(id.asLong());
                }
            }
            String nameMatch = body.path("name_match").isTextual() ? body.path("name_match").asText() : null;
            Set<String> statuses = null;
            if (body.path("statuses").isArray()) {
                statuses = new java.util.HashSet<>();
                for (JsonNode s : body.path("statuses")) {
                    statuses.add(s.asText());
                }
            }
            boolean skipFinished = body.path("skip_finished").asBoolean(false);
            boolean allUsers = body.path("all_users").asBoolean(false);
            String me = body.path("env_vars").path("SKYPILOT_USER_ID").asText();
            List<Job> matched = new ArrayList<>();
            for (Job j : jobs.values()) {
                if (!allUsers && !j.userHash.equals(me) || skipFinished && j.terminal()
                        || ids != null && !ids.contains(j.id) || nameMatch != null && !j.name.contains(nameMatch)
                        || statuses != null && !statuses.contains(j.status())) {
                    continue;
                }
                matched.add(j);
            }
            Set<String> fields = null;
            if (body.path("fields").isArray()) {
                fields = new LinkedHashSet<>();
                for (JsonNode f : body.path("fields")) {
                    fields.add(f.asText());
                }
            }
            ArrayNode records = JSON.createArrayNode();
            int from = limit == null ? 0 : (page - 1) * limit;
            int to = limit == null ? matched.size() : Math.min(matched.size(), from + limit);
            for (int i = from; i < to; i++) {
                records.add(record(matched.get(i), fields));
            }
            ObjectNode value = JSON.createObjectNode();
            value.set("jobs", records);
            value.put("total", matched.size());
            value.put("total_no_filter", jobs.size());
            ObjectNode counts = value.putObject("status_counts");
            matched.forEach(j -> counts.put(j.status(), counts.path(j.status()).asInt(0) + 1));
            r.succeed(value.toString());
        };
    }

    private void cancelJobs(String requestId, ObjectNode body) {
        Req r = newRequest(requestId, "sky.jobs.cancel", body, Duration.ZERO, null);
        r.onFinish = () -> {
            String notUp = controllerError("All managed jobs should have finished.");
            if (notUp != null) {
                r.fail("ClusterNotUpError", notUp);
                return;
            }
            List<Long> ids = new ArrayList<>();
            body.path("job_ids").forEach(n -> ids.add(n.asLong()));
            boolean byName = body.path("name").isTextual();
            boolean byPool = body.path("pool").isTextual();
            boolean all = body.path("all").asBoolean(false) || body.path("all_users").asBoolean(false);
            int given = (ids.isEmpty() ? 0 : 1) + (byName ? 1 : 0) + (byPool ? 1 : 0) + (all ? 1 : 0);
            if (given != 1) {
                r.fail("ValueError", "Can only specify one of JOB_IDS, name, pool, or all/all_users. Provided '"
                        + body + "'.");
                return;
            }
            if (byName) {
                List<Long> named = jobs.values().stream().filter(j -> j.name.equals(body.path("name").asText())
                        && !j.terminal()).map(j -> j.id).toList();
                if (named.size() > 1) {
                    r.log.append("Multiple running jobs found with name '").append(body.path("name").asText())
                            .append("'.\n");
                    r.fail("RuntimeError", "Please specify the job ID instead of the job name.");
                    return;
                }
                ids.addAll(named);
            }
            String workspace = activeWorkspace(body);
            List<Long> cancelled = new ArrayList<>();
            List<Long> wrongWorkspace = new ArrayList<>();
            for (long id : ids) {
                Job j = jobs.get(id);
                if (j == null) {
                    r.log.append("Job ").append(id).append(" not found. Skipped.\n");
                    continue;
                }
                if (j.terminal()) {
                    r.log.append("Job ").append(id).append(" is already in terminal state ").append(j.status())
                            .append(". Skipped.\n");
                    continue;
                }
                if (!j.workspace.equals(workspace)) {
                    wrongWorkspace.add(id);
                    continue;
                }
                j.path = j.status().equals("PENDING") ? List.of("CANCELLED")
                        : List.of(j.status(), "CANCELLING", "CANCELLED");
                j.step = 0;
                cancelled.add(id);
            }
            String skipped = "";
            if (!wrongWorkspace.isEmpty()) {
                boolean many = wrongWorkspace.size() > 1;
                skipped = " Job" + (many ? "s" : "") + " with ID" + (many ? "s" : "") + " "
                        + String.join(", ", wrongWorkspace.stream().map(String::valueOf).toList()) + " "
                        + (many ? "are" : "is") + " skipped as they are not in the active workspace '" + workspace
                        + "'. Check the workspace of the job with: sky jobs queue";
            }
            if (cancelled.isEmpty()) {
                r.log.append("No job to cancel.").append(skipped).append('\n');
            } else {
                r.log.append(cancelled.size() == 1 ? "Job with ID " + cancelled.get(0) + " is"
                        : "Jobs with IDs " + String.join(", ", cancelled.stream().map(String::valueOf).toList()) + " are")
                        .append(" scheduled to be cancelled.").append(skipped).append('\n');
            }
            r.succeed("null");
        };
    }

    private void cancelRequests(String requestId, ObjectNode body) {
        Req r = newRequest(requestId, "sky.api_cancel", body, Duration.ZERO, null);
        r.onFinish = () -> {
            ArrayNode killed = JSON.createArrayNode();
            for (JsonNode prefix : body.path("request_ids")) {
                for (Req other : requests.values()) {
                    if (other.id.startsWith(prefix.asText()) && !other.finished() && other != r) {
                        other.onFinish = null;
                        other.status = "CANCELLED";
                        other.finish();
                        killed.add(other.id);
                    }
                }
            }
            r.succeed(killed.toString());
        };
    }

    private ResponseDefinition logs(String requestId, ObjectNode body, List<HttpHeader> headers) {
        boolean controllerLog = body.path("controller").asBoolean(false);
        boolean follow = body.path("follow").asBoolean(true);
        Req r = newRequest(requestId, "sky.jobs.logs", body, Duration.ZERO, null);
        replace(headers, "Content-Type", "text/plain");
        StringBuilder out = new StringBuilder(richPayload("rich_init", "[dim]Checking request: " + requestId + "[/dim]"))
                .append(richPayload("rich_start", "[dim]Checking request: " + requestId + "[/dim]"))
                .append(richPayload("rich_stop", ""));
        boolean starting = refreshStarts(body);
        if (starting) {
            controller = Controller.UP;
        }
        long id = body.path("job_id").asLong(-1);
        String notUp = controllerError("Jobs controller is stopped. To get the logs, run: sky jobs logs -r " + id);
        if (notUp != null) {
            r.fail("ClusterNotUpError", "\u001B[33m" + notUp.replace("sky jobs logs -r", "\u001B[1msky jobs logs -r")
                    + "\u001B[0m");
            return respond(200, out.toString(), headers);
        }
        Job job = jobs.get(id);
        if (job == null) {
            r.succeed("102");
            return respond(200, out.append("No managed job with ID ").append(id).append(" found.\n").toString(), headers);
        }
        JsonNode tailNode = body.get("tail");
        if (job.terminal() && !controllerLog && tailNode != null && !tailNode.isNull() && !(tailNode.asInt() > 0)) {
            r.fail("AssertionError", ""); // released servers: `assert tail > 0` for finished jobs
            return respond(200, out.toString(), headers);
        }
        List<String> lines = controllerLog ? List.of("[controller] Launching the job cluster of '" + job.name + "'",
                "[controller] Job " + id + " started on " + job.name + "-" + id) : job.log;
        if (tailNode != null && !tailNode.isNull() && tailNode.asInt() > 0 && tailNode.asInt() < lines.size()) {
            lines = lines.subList(lines.size() - tailNode.asInt(), lines.size());
        }
        if (follow && retryNextFollowedLog) {
            retryNextFollowedLog = false;
            out.append(lines.get(0)).append('\n');
            out.append("<sky-payload>\"<retry></retry>\"</sky-payload>\n");
            r.status = "CANCELLED";
            r.shouldRetry = true;
            r.finish();
            return respond(200, out.toString(), headers);
        }
        for (int i = 0; i < lines.size(); i++) {
            out.append(lines.get(i)).append('\n');
            if (i == 0) {
                out.append("<sky-payload>\"<heartbeat></heartbeat>\"</sky-payload>\n");
            }
        }
        String status = job.status();
        r.succeed(controllerLog ? "0" : !job.terminal() ? "101" : status.equals("SUCCEEDED") ? "0"
                : status.equals("CANCELLED") ? "103" : "100");
        return respond(200, out.toString(), headers);
    }

    // ---- encodings ----

    private static String richPayload(String control, String message) {
        return "<sky-payload>" + JSON.valueToTree("<" + control + ">" + message + "</" + control + ">") + "</sky-payload>\n";
    }

    private static String errorJson(String type, String message) {
        ObjectNode e = JSON.createObjectNode();
        e.put("object", "gASVKAAAAAAAAACMCGJ1aWx0aW5zlIwKVmFsdWVFcnJvcpSTlIwDYmFklIWUUpQu");
        e.put("type", type);
        e.put("message", message);
        return e.toString();
    }

    /** A request as {@code /api/get} sends it ({@code encode()}): the double-encoded fields. */
    private static ObjectNode payload(Req r) {
        ObjectNode p = JSON.createObjectNode();
        p.put("request_id", r.id);
        p.put("name", r.name);
        p.put("entrypoint", "gAROLg==");
        p.put("request_body", "gAROLg==");
        p.put("status", r.status);
        p.put("created_at", r.createdAt);
        p.put("user_id", "ab12cd34");
        p.put("return_value", r.returnValue);
        p.put("error", r.error);
        p.put("pid", 41233);
        p.put("schedule_type", r.name.equals("sky.jobs.launch") ? "long" : "short");
        p.putNull("user_name");
        p.put("cluster_name", CONTROLLER);
        p.put("status_msg", r.statusMsg);
        p.put("should_retry", r.shouldRetry);
        if (r.finishedAt == null) {
            p.putNull("finished_at");
        } else {
            p.put("finished_at", r.finishedAt);
        }
        p.putNull("file_mounts_blob_id");
        return p;
    }

    /** A request as {@code /api/status} sends it ({@code readable_encode()}): the body as JSON text, no result. */
    private static ObjectNode readable(Req r, String status) {
        ObjectNode p = payload(r);
        p.put("entrypoint", r.name.replace("sky.", "").replace('.', '_'));
        p.put("request_body", r.body == null ? "null" : r.body.toString());
        p.put("status", status);
        p.put("return_value", "null");
        p.put("error", "null");
        p.putNull("pid");
        p.put("user_name", "alice");
        return p;
    }

    private static ObjectNode record(Job j, Set<String> fields) {
        String status = j.status();
        boolean hasCluster = !status.equals("PENDING") && !TERMINAL.contains(status);
        boolean ended = TERMINAL.contains(status);
        ObjectNode r = JSON.createObjectNode();
        r.put("_job_id", j.id);
        r.put("job_id", j.id);
        r.put("task_id", 0);
        r.put("job_name", j.name);
        r.put("task_name", j.name);
        r.put("job_duration", status.equals("PENDING") ? 0.0 : 12.5);
        r.put("workspace", j.workspace);
        r.put("status", status);
        r.put("schedule_state", status.equals("PENDING") ? "WAITING" : ended ? "DONE" : "ALIVE");
        r.put("resources", "1x[H100:8]");
        r.put("cluster_resources", hasCluster ? "1x(gpus=H100:8, cpus=208, mem=1800, p5.48xlarge)" : "-");
        r.put("cluster_resources_full", hasCluster ? "1x(gpus=H100:8, cpus=208, mem=1800, p5.48xlarge, disk=256)" : "-");
        r.put("cloud", hasCluster ? "AWS" : "-");
        r.put("region", hasCluster ? "us-east-1" : "-");
        r.put("zone", hasCluster ? "us-east-1a" : "-");
        r.put("infra", hasCluster ? "AWS (us-east-1a)" : "-");
        r.put("recovery_count", status.equals("RECOVERING") ? 1 : 0);
        if (status.equals("PENDING")) {
            r.put("details", "In backoff, waiting for resources");
        } else {
            r.putNull("details");
        }
        if (status.startsWith("FAILED")) {
            r.put("failure_reason", "setup failed: exit code 1");
        } else {
            r.putNull("failure_reason");
        }
        r.put("user_name", "alice");
        r.put("user_hash", j.userHash);
        r.put("submitted_at", j.submittedAt);
        if (!status.equals("PENDING")) {
            r.put("start_at", j.submittedAt + 250.65);
        } else {
            r.putNull("start_at");
        }
        if (ended) {
            r.put("end_at", j.submittedAt + 900.5);
        } else {
            r.putNull("end_at");
        }
        r.put("user_yaml", j.userYaml);
        r.put("entrypoint", "skydeck");
        r.set("metadata", j.metadata);
        r.put("controller_pid", 81234);
        r.put("controller_pid_started_at", j.submittedAt + 1.5);
        r.put("dag_yaml_path", "/home/sky/.sky/managed_jobs/" + j.name + "-" + j.id + ".yaml");
        r.put("env_file_path", "/home/sky/.sky/managed_jobs/" + j.name + "-" + j.id + ".env");
        r.put("last_recovered_at", hasCluster ? j.submittedAt + 250.65 : -1);
        r.put("run_timestamp", "sky-2025-04-23-18-15-51-250000");
        int priority = j.task.get("resources") instanceof Map<?, ?> res && res.get("priority") instanceof Integer p ? p : 0;
        r.put("priority", priority);
        r.putNull("priority_class");
        r.put("original_user_yaml_path", "/home/sky/.sky/managed_jobs/" + j.name + "-" + j.id + ".original_user_yaml");
        if (j.pool == null) {
            r.putNull("pool");
        } else {
            r.put("pool", j.pool);
        }
        r.putNull("pool_hash");
        if (hasCluster) {
            r.put("current_cluster_name", j.name.replace('_', '-') + "-" + j.id);
        } else {
            r.putNull("current_cluster_name");
        }
        r.putNull("cluster_name_on_cloud");
        r.putNull("job_id_on_pool_cluster");
        r.putObject("accelerators").put("H100", 8);
        r.putObject("labels");
        r.putNull("links");
        r.putNull("node_names");
        r.put("execution", "serial");
        r.put("is_job_group", false);
        r.putNull("is_primary_in_job_group");
        r.put("is_batch", false);
        r.putNull("batch_total_batches");
        r.putNull("batch_completed_batches");
        r.putNull("internal_external_ips");
        r.putNull("internal_services");
        if (fields == null) {
            return r;
        }
        Set<String> kept = new LinkedHashSet<>(fields);
        kept.add("status");
        kept.add("job_id");
        if (kept.contains("job_name")) {
            kept.add("task_name");
        }
        if (kept.contains("details")) {
            kept.addAll(List.of("schedule_state", "priority", "failure_reason"));
        }
        if (kept.contains("user_name")) {
            kept.add("user_hash");
        }
        ObjectNode out = JSON.createObjectNode();
        for (String key : RECORD_KEYS) {
            if (kept.contains(key)) {
                out.set(key, r.get(key));
            } else {
                out.putNull(key);
            }
        }
        return out;
    }

    private static boolean nonEmpty(String s) {
        return s != null && !s.isEmpty();
    }

    private static void replace(List<HttpHeader> headers, String name, String value) {
        headers.removeIf(h -> h.key().equalsIgnoreCase(name));
        headers.add(new HttpHeader(name, value));
    }

    private static ResponseDefinition respond(int status, String body, List<HttpHeader> headers) {
        return com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder.responseDefinition().withStatus(status)
                .withHeaders(new HttpHeaders(headers)).withBody(body).build();
    }
}
