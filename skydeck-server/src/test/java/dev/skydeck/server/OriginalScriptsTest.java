package dev.skydeck.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.skydeck.server.TestServer.Response;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scripts written against the original SkyDeck's API keep working (issue 12): body-less POSTs as
 * {@code curl -X POST} sends them, and the names the original allowed, in paths and bodies.
 */
class OriginalScriptsTest {
    private static final String TOKEN = "a-token-of-at-least-16-chars";

    @TempDir
    Path dir;

    /** What {@code curl -X POST URL [-H …]} sends: no body, no Content-Length, no Content-Type. */
    private static int curlPost(TestServer s, String path, Map<String, String> headers) throws IOException {
        URI u = URI.create(s.url(path));
        try (Socket socket = new Socket(u.getHost(), u.getPort())) {
            StringBuilder req = new StringBuilder("POST " + u.getRawPath() + " HTTP/1.1\r\n");
            Map<String, String> all = new LinkedHashMap<>();
            all.put("Host", u.getHost() + ":" + u.getPort());
            all.put("User-Agent", "curl/8.5.0");
            all.put("Accept", "*/*");
            all.putAll(headers);
            all.forEach((k, v) -> req.append(k).append(": ").append(v).append("\r\n"));
            req.append("Connection: close\r\n\r\n");
            OutputStream out = socket.getOutputStream();
            out.write(req.toString().getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            String status = new String(in.readNBytes(12), StandardCharsets.US_ASCII); // "HTTP/1.1 200"
            return Integer.parseInt(status.substring(9, 12));
        }
    }

    private static int curlPost(TestServer s, String path) throws IOException {
        return curlPost(s, path, Map.of());
    }

    @Test
    void aBodylessPostIsAcceptedWhereTheEndpointNeedsNoBody() throws Exception {
        try (TestServer s = TestServer.start(dir)) {
            long id = s.post("/api/experiments", "{\"name\": \"ppo\"}").json().path("experiment").path("id").asLong();

            assertThat(curlPost(s, "/api/refresh")).isEqualTo(200);
            assertThat(curlPost(s, "/api/reconcile")).isEqualTo(200);
            assertThat(s.delete("/api/experiments/ppo").status()).isEqualTo(200);
            assertThat(curlPost(s, "/api/experiments/" + id + "/undelete")).isEqualTo(200);
            assertThat(curlPost(s, "/api/jobs/9588/cancel")).as("past the guard, to the route").isEqualTo(404);
            assertThat(s.send(s.builder("/api/refresh").POST(java.net.http.HttpRequest.BodyPublishers.noBody()))
                    .status()).as("Content-Length: 0, no type").isEqualTo(200);
        }
    }

    @Test
    void aBodylessPostToAnEndpointThatNeedsABodyIsABadRequestNotAnUnsupportedType() throws Exception {
        try (TestServer s = TestServer.start(dir)) {
            s.post("/api/experiments", "{\"name\": \"ppo\"}");

            assertThat(curlPost(s, "/api/experiments/ppo/state")).isEqualTo(400);
            assertThat(s.send(s.builder("/api/experiments/ppo/state")
                    .POST(java.net.http.HttpRequest.BodyPublishers.noBody())).detail()).contains("body is empty");
            // a body still needs its JSON type: a form can never pass
            Response form = s.send(s.builder("/api/refresh").header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("")));
            assertThat(form.status()).isEqualTo(415);
            Response untyped = s.send(s.builder("/api/refresh")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{}")));
            assertThat(untyped.status()).isEqualTo(415);
        }
    }

    @Test
    void originHostAndTokenChecksStillApplyToBodylessPosts() throws Exception {
        try (TestServer s = TestServer.start(dir, b -> b.authToken(TOKEN))) {
            assertThat(curlPost(s, "/api/refresh")).as("no token").isEqualTo(401);
            Map<String, String> auth = Map.of("Authorization", "Bearer " + TOKEN);
            assertThat(curlPost(s, "/api/refresh", auth)).isEqualTo(200);
            Map<String, String> foreign = new LinkedHashMap<>(auth);
            foreign.put("Origin", "http://evil.example");
            assertThat(curlPost(s, "/api/refresh", foreign)).isEqualTo(403);
        }
        try (TestServer s = TestServer.start(dir.resolve("2"), b -> b.allowedHosts(java.util.Set.of("skydeck.lan")))) {
            URI u = URI.create(s.url("/api/refresh"));
            try (Socket socket = new Socket(u.getHost(), u.getPort())) {
                socket.getOutputStream().write(("POST /api/refresh HTTP/1.1\r\nHost: evil.example\r\n"
                        + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                String status = new String(socket.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
                assertThat(status).endsWith("403");
            }
        }
    }

    @Test
    void theOriginalsNamesWorkInPathsAndBodiesAndTheRunNameReachesTheCommand() {
        try (TestServer s = TestServer.start(dir)) {
            Response created = s.post("/api/experiments", "{\"name\": \"daveey.nav.baseline (copy)\","
                    + " \"run_name\": \"daveey.nav.baseline.r2\", \"flags\": {\"lr\": 3.0}}");
            assertThat(created.status()).isEqualTo(201);
            assertThat(created.json().path("experiment").path("run_name").asText()).isEqualTo("daveey.nav.baseline.r2");

            String path = "/api/experiments/" + URLEncoder.encode("daveey.nav.baseline (copy)", StandardCharsets.UTF_8)
                    .replace("+", "%20");
            Response got = s.get(path);
            assertThat(got.status()).isEqualTo(200);
            assertThat(got.json().path("experiment").path("command").asText())
                    .isEqualTo("lt --gpus=0 --nodes=1 run=daveey.nav.baseline.r2 lr=3.0");
            Response patched = s.patch(path, "{\"run_name\": null}");
            assertThat(patched.json().path("experiment").path("command").asText())
                    .isEqualTo("lt --gpus=0 --nodes=1 'run=daveey.nav.baseline (copy)' lr=3.0");
            assertThat(s.post("/api/experiments", "{\"name\": \"a/b\"}").status()).isEqualTo(400);
        }
    }

    @Test
    void theOriginalsFlatResourceFieldsCreateAndChangeAnExperiment() {
        try (TestServer s = TestServer.start(dir)) {
            // the original's Experiment model: instance_type, cloud and spot beside the other fields
            Response created = s.post("/api/experiments", "{\"name\": \"Test PPO Training\", \"base_command\": \"lt\","
                    + " \"run_name\": \"daveey.test_ppo\", \"nodes\": 1, \"gpus\": 4, \"instance_type\": \"p4d.24xlarge\","
                    + " \"cloud\": \"aws\", \"spot\": true, \"flags\": {\"trainer.losses.ppo.enabled\": true}}");
            assertThat(created.status()).as(created.body()).isEqualTo(201);
            var resources = created.json().path("experiment").path("resources");
            assertThat(resources.path("cloud").asText()).isEqualTo("aws");
            assertThat(resources.path("instance_type").asText()).isEqualTo("p4d.24xlarge");
            assertThat(resources.path("spot").asBoolean()).isTrue();

            String path = "/api/experiments/Test%20PPO%20Training";
            Response patched = s.patch(path, "{\"spot\": false}");
            assertThat(patched.status()).as(patched.body()).isEqualTo(200);
            assertThat(patched.json().path("experiment").path("resources").path("spot").asBoolean()).isFalse();
            assertThat(patched.json().path("experiment").path("resources").path("cloud").asText()).isEqualTo("aws");

            Response both = s.patch(path, "{\"cloud\": \"gcp\", \"resources\": {\"cloud\": \"aws\"}}");
            assertThat(both.status()).isEqualTo(400);
            assertThat(both.json().path("detail").asText()).contains("not both");
            assertThat(s.post("/api/experiments", "{\"name\": \"x\", \"accelerator\": \"H100\"}").status())
                    .as("only the original's four flat fields").isEqualTo(400);
        }
    }
}
