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
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stateful SkyPilot API server on WireMock, answering exactly as SKYPILOT.md describes: every
 * operation POST is {@code 200 null} with a fresh uuid in {@code X-Skypilot-Request-ID};
 * {@code /api/status} reports PENDING, then RUNNING, then the final status; {@code /api/get}
 * returns the payload with {@code return_value} and {@code error} as strings containing JSON
 * (500 with {@code detail} for failures, 404 for unknown ids); version headers are echoed only
 * when the request carried both. Jobs advance one status per {@link #advance()}.
 */
public final class SkyPilotStub implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();

    /** A managed job the stub knows. */
    static final class Job {
        final long id;
        final String name;
        final String userYaml;
        volatile List<String> path;
        volatile int step;
        final double submittedAt;

        Job(long id, String name, String userYaml, List<String> path, double submittedAt) {
            this.id = id;
            this.name = name;
            this.userYaml = userYaml;
            this.path = path;
            this.submittedAt = submittedAt;
        }

        String status() {
            return path.get(Math.min(step, path.size() - 1));
        }
    }

    private record Req(String id, String name, String status, String returnValue, String error) {
    }

    final WireMockServer server;
    final Map<Long, Job> jobs = new LinkedHashMap<>();
    private final Map<String, Req> requests = new LinkedHashMap<>();
    private final Map<String, AtomicInteger> statusPolls = new LinkedHashMap<>();
    final List<String> launchedTasks = new CopyOnWriteArrayList<>();
    final List<ObjectNode> bodies = new CopyOnWriteArrayList<>();
    volatile List<String> nextPath = List.of("PENDING", "STARTING", "RUNNING", "SUCCEEDED");
    volatile boolean jobIdAsInt;
    volatile boolean controllerDown;
    volatile String failNextLaunch;
    private final java.util.Set<String> forgotten = new java.util.HashSet<>();
    volatile int statusPollsBeforeDone = 1;
    private long nextJobId = 1;

    /** When each job name's launch request arrived ({@link System#nanoTime()}). */
    public final Map<String, Long> launchArrivals = new java.util.concurrent.ConcurrentHashMap<>();
    /** HTTP requests served. */
    public final AtomicInteger httpRequests = new AtomicInteger();

    /** A stub on a random loopback port. */
    public SkyPilotStub() {
        server = new WireMockServer(WireMockConfiguration.options().dynamicPort().bindAddress("127.0.0.1")
                .extensions(new Transformer()));
        server.start();
        server.stubFor(any(anyUrl()).willReturn(aResponse().withTransformers("skypilot")));
        server.addMockServiceRequestListener((request, response) -> httpRequests.incrementAndGet());
    }

    /** Adds {@code count} jobs in {@code status} (as if launched by hand). */
    public synchronized void addJobs(int count, String status) {
        for (int i = 0; i < count; i++) {
            long id = nextJobId++;
            jobs.put(id, new Job(id, "bench-" + id, "name: bench-" + id + "\n", List.of(status), 1745432150.25 + id));
        }
    }

    /** The number of statuses to report PENDING/RUNNING before a request finishes. */
    public void statusPollsBeforeDone(int value) {
        statusPollsBeforeDone = value;
    }

    /** The base URL. */
    public String endpoint() {
        return "http://127.0.0.1:" + server.port();
    }

    /** Moves every unfinished job one status along its path. */
    synchronized void advance() {
        for (Job j : jobs.values()) {
            if (j.step < j.path.size() - 1) {
                j.step++;
            }
        }
    }

    /** The server restarted: every request so far is forgotten (404), jobs stay. */
    synchronized void forgetRequests() {
        forgotten.addAll(requests.keySet());
    }

    synchronized Job job(long id) {
        return jobs.get(id);
    }

    /** How many requests of an operation ({@code sky.jobs.launch}, …) were submitted. */
    public synchronized int requestCount(String name) {
        return (int) requests.values().stream().filter(r -> r.name().equals(name)).count();
    }

    /** Stops the server. */
    @Override
    public void close() {
        server.stop();
    }

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
            List<HttpHeader> headers = new ArrayList<>();
            headers.add(new HttpHeader("Content-Type", "application/json"));
            headers.add(new HttpHeader("X-Skypilot-Request-ID", UUID.randomUUID().toString()));
            if (req.containsHeader("X-SkyPilot-API-Version") && req.containsHeader("X-SkyPilot-Version")) {
                headers.add(new HttpHeader("X-SkyPilot-API-Version", "49"));
                headers.add(new HttpHeader("X-SkyPilot-Version", "1.0.0-dev0"));
            }
            synchronized (SkyPilotStub.this) {
                try {
                    return answer(req.getMethod().getName(), path, req, headers);
                } catch (IOException e) {
                    return new ResponseDefinition(500, e.toString());
                }
            }
        }

        private ResponseDefinition answer(String method, String path, com.github.tomakehurst.wiremock.http.Request req,
                                          List<HttpHeader> headers) throws IOException {
            if (method.equals("GET") && path.equals("/api/health")) {
                return respond(200, "{\"status\":\"healthy\",\"api_version\":\"49\",\"version\":\"1.0.0-dev0\","
                        + "\"version_on_disk\":\"1.0.0-dev0\",\"commit\":null,\"basic_auth_enabled\":false,"
                        + "\"user\":{\"id\":\"ab12cd34\",\"name\":\"alice\",\"user_type\":\"user\"},"
                        + "\"service_account_token_enabled\":true,\"ingress_basic_auth_enabled\":false,"
                        + "\"latest_version\":null,\"external_proxy_auth_enabled\":false,\"telemetry_enabled\":false}",
                        headers);
            }
            if (method.equals("GET") && path.equals("/api/status")) {
                ArrayNode out = JSON.createArrayNode();
                for (String id : req.queryParameter("request_ids").values()) {
                    Req r = requests.get(id);
                    if (r != null && !forgotten.contains(id)) {
                        int polls = statusPolls.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
                        String status = polls <= statusPollsBeforeDone ? (polls == 1 ? "PENDING" : "RUNNING") : r.status();
                        out.add(JSON.readTree(payload(r, status)));
                    }
                }
                return respond(200, out.toString(), headers);
            }
            if (method.equals("GET") && path.equals("/api/get")) {
                String id = req.queryParameter("request_id").firstValue();
                Req r = forgotten.contains(id) ? null : requests.get(id);
                if (r == null) {
                    return respond(404, "{\"detail\":\"Request '" + id + "' not found\"}", headers);
                }
                if (r.status().equals("FAILED")) {
                    return respond(500, "{\"detail\":" + payload(r, r.status()) + "}", headers);
                }
                return respond(200, payload(r, r.status()), headers);
            }
            if (!method.equals("POST")) {
                return respond(404, "{\"detail\":\"Not Found\"}", headers);
            }
            ObjectNode body = (ObjectNode) JSON.readTree(req.getBodyAsString());
            bodies.add(body);
            String requestId = UUID.randomUUID().toString();
            headers.removeIf(h -> h.key().equals("X-Skypilot-Request-ID"));
            headers.add(new HttpHeader("X-Skypilot-Request-ID", requestId));
            switch (path) {
                case "/jobs/launch" -> {
                    if (!body.has("name")) {
                        return respond(422, "{\"detail\":[{\"type\":\"missing\",\"loc\":[\"body\",\"name\"],"
                                + "\"msg\":\"Field required\",\"input\":{}}]}", headers);
                    }
                    String task = body.path("task").asText();
                    launchArrivals.put(body.path("name").asText(), System.nanoTime());
                    launchedTasks.add(task);
                    if (failNextLaunch != null) {
                        String message = failNextLaunch;
                        failNextLaunch = null;
                        requests.put(requestId, new Req(requestId, "sky.jobs.launch", "FAILED", "null",
                                error("ValueError", message)));
                    } else {
                        long id = nextJobId++;
                        jobs.put(id, new Job(id, body.path("name").asText(), task, nextPath, 1745432150.25 + id));
                        String jobId = jobIdAsInt ? Long.toString(id) : "[" + id + "]";
                        requests.put(requestId, new Req(requestId, "sky.jobs.launch", "SUCCEEDED",
                                "{\"job_id\":" + jobId + ",\"handle\":\"gAROLg==\"}", "null"));
                    }
                }
                case "/jobs/queue/v2" -> {
                    if (controllerDown) {
                        requests.put(requestId, new Req(requestId, "sky.jobs.queue_v2", "FAILED", "null",
                                error("ClusterNotUpError", "\u001B[33mJobs controller is not up.\u001B[0m")));
                    } else {
                        int page = body.path("page").asInt(1);
                        int limit = body.path("limit").asInt(100);
                        List<Job> all = new ArrayList<>(jobs.values());
                        ArrayNode records = JSON.createArrayNode();
                        for (int i = (page - 1) * limit; i < Math.min(all.size(), page * limit); i++) {
                            records.add(record(all.get(i)));
                        }
                        ObjectNode value = JSON.createObjectNode();
                        value.set("jobs", records);
                        value.put("total", all.size());
                        value.put("total_no_filter", all.size());
                        value.putObject("status_counts");
                        requests.put(requestId, new Req(requestId, "sky.jobs.queue_v2", "SUCCEEDED", value.toString(),
                                "null"));
                    }
                }
                case "/jobs/cancel" -> {
                    for (JsonNode id : body.path("job_ids")) {
                        Job j = jobs.get(id.asLong());
                        if (j != null && !List.of("SUCCEEDED", "FAILED", "CANCELLED").contains(j.status())) {
                            j.path = List.of(j.status(), "CANCELLING", "CANCELLED");
                            j.step = 0;
                        }
                    }
                    requests.put(requestId, new Req(requestId, "sky.jobs.cancel", "SUCCEEDED", "null", "null"));
                }
                case "/jobs/logs" -> {
                    requests.put(requestId, new Req(requestId, "sky.jobs.logs", "SUCCEEDED", "\"0\"", "null"));
                    headers.removeIf(h -> h.key().equals("Content-Type"));
                    headers.add(new HttpHeader("Content-Type", "text/plain"));
                    return respond(200, "<sky-payload>\"<rich_init>Checking request…</rich_init>\"</sky-payload>\n"
                            + "epoch 1/2 loss=1.0\n<sky-payload>{\"type\":\"heartbeat\"}</sky-payload>\nepoch 2/2 loss=0.5\n",
                            headers);
                }
                default -> {
                    return respond(404, "{\"detail\":\"Not Found\"}", headers);
                }
            }
            return respond(200, "null", headers);
        }

        private ResponseDefinition respond(int status, String body, List<HttpHeader> headers) {
            return com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder.responseDefinition().withStatus(status)
                    .withHeaders(new HttpHeaders(headers)).withBody(body).build();
        }
    }

    private static String error(String type, String message) {
        ObjectNode e = JSON.createObjectNode();
        e.put("object", "gASVKAAAAAAAAACMCGJ1aWx0aW5zlIwKVmFsdWVFcnJvcpSTlIwDYmFklIWUUpQu");
        e.put("type", type);
        e.put("message", message);
        return e.toString();
    }

    /** A request payload with the double-encoded fields, as /api/get and /api/status send it. */
    private static String payload(Req r, String status) {
        ObjectNode p = JSON.createObjectNode();
        p.put("request_id", r.id());
        p.put("name", r.name());
        p.put("entrypoint", "gAROLg==");
        p.put("request_body", "gAROLg==");
        p.put("status", status);
        p.put("created_at", 1745432100.52);
        p.put("user_id", "ab12cd34");
        p.put("return_value", r.returnValue());
        p.put("error", r.error());
        p.put("pid", 41233);
        p.put("schedule_type", "long");
        p.putNull("user_name");
        p.put("cluster_name", "sky-jobs-controller-9f8e7d6c");
        p.putNull("status_msg");
        p.put("should_retry", false);
        p.put("finished_at", 1745432190.11);
        p.putNull("file_mounts_blob_id");
        return p.toString();
    }

    private static ObjectNode record(Job j) {
        String status = j.status();
        boolean hasCluster = !status.equals("PENDING");
        boolean ended = List.of("SUCCEEDED", "FAILED", "FAILED_SETUP", "CANCELLED").contains(status);
        ObjectNode r = JSON.createObjectNode();
        r.put("_job_id", j.id);
        r.put("job_id", j.id);
        r.put("task_id", 0);
        r.put("job_name", j.name);
        r.put("task_name", j.name);
        r.put("job_duration", status.equals("PENDING") ? 0.0 : 12.5);
        r.put("workspace", "default");
        r.put("status", status);
        r.put("schedule_state", status.equals("PENDING") ? "WAITING" : ended ? "DONE" : "ALIVE");
        r.put("resources", "1x[H100:8]");
        r.put("cluster_resources", hasCluster ? "1x(gpus=H100:8, cpus=208, mem=1800, p5.48xlarge)" : "-");
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
        r.put("user_hash", "ab12cd34");
        r.put("submitted_at", j.submittedAt);
        if (hasCluster) {
            r.put("start_at", j.submittedAt + 250.65);
        } else {
            r.putNull("start_at");
        }
        if (ended) {
            r.put("end_at", j.submittedAt + 900.5);
        } else {
            r.putNull("end_at");
        }
        r.put("last_recovered_at", -1);
        r.put("user_yaml", j.userYaml);
        r.put("entrypoint", "skydeck");
        r.putObject("metadata");
        r.putNull("links");
        r.putObject("accelerators").put("H100", 8);
        r.putObject("labels");
        if (hasCluster) {
            r.put("current_cluster_name", j.name.replace('_', '-') + "-" + j.id);
        } else {
            r.putNull("current_cluster_name");
        }
        r.put("priority", 500);
        r.putNull("pool");
        r.put("execution", "serial");
        r.put("some_future_field", "ignored");
        return r;
    }
}
