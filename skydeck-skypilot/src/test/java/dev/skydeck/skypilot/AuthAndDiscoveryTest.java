package dev.skydeck.skypilot;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.absent;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import dev.skydeck.SkyDeckException;
import dev.skydeck.skypilot.internal.ServerConfig;
import dev.skydeck.spi.BackendException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Finding the API server and authenticating exactly as the SkyPilot client does (SKYPILOT.md §1, §2). */
class AuthAndDiscoveryTest {
    private static final String HEALTHY = "{\"status\":\"healthy\",\"api_version\":\"49\",\"version\":\"1.0.0\","
            + "\"user\":null,\"basic_auth_enabled\":false}";
    private static final String SECRET = "sky_eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.c2lnbmF0dXJl";

    @TempDir
    Path dir;

    private WireMockServer server;

    @BeforeEach
    void start() {
        server = new WireMockServer(WireMockConfiguration.options().dynamicPort().bindAddress("127.0.0.1"));
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop();
    }

    private String endpoint() {
        return "http://127.0.0.1:" + server.port();
    }

    private SkyPilotBackend backend(Map<String, String> env) {
        Map<String, String> e = new HashMap<>(env);
        e.putIfAbsent("USER", "alice");
        return SkyPilotBackend.builder().environment(e).userHome(dir.resolve("home")).workingDirectory(dir)
                .hostname("box").skydeckHome(dir.resolve("skydeck")).maxAttempts(1)
                .statusPolling(Duration.ofMillis(1), Duration.ofMillis(2)).build();
    }

    private void healthy() {
        server.stubFor(get(urlPathEqualTo("/api/health")).willReturn(aResponse().withStatus(200)
                .withHeader("X-SkyPilot-API-Version", "49").withHeader("X-SkyPilot-Version", "1.0.0")
                .withHeader("Content-Type", "application/json").withBody(HEALTHY)));
    }

    @Test
    void theEndpointComesFromTheEnvironmentThenTheUserConfigThenTheProjectConfig() throws Exception {
        Path home = dir.resolve("home");
        Files.createDirectories(home.resolve(".sky"));
        assertThat(ServerConfig.discover(Map.of(), home, dir, "box"))
                .satisfies(c -> {
                    assertThat(c.endpoint().toString()).isEqualTo("http://127.0.0.1:46580");
                    assertThat(c.configured()).isFalse();
                });
        Files.writeString(dir.resolve(".sky.yaml"), "api_server:\n  endpoint: http://project:1/\n");
        assertThat(ServerConfig.discover(Map.of(), home, dir, "box").endpoint().toString()).isEqualTo("http://project:1");
        Files.writeString(home.resolve(".sky/config.yaml"), "api_server:\n  endpoint: https://user.example/\n");
        ServerConfig both = ServerConfig.discover(Map.of(), home, dir, "box");
        assertThat(both.endpoint().toString()).isEqualTo("http://project:1"); // the project file wins (skypilot_config.py)
        Files.delete(dir.resolve(".sky.yaml"));
        ServerConfig user = ServerConfig.discover(Map.of(), home, dir, "box");
        assertThat(user.endpoint().toString()).isEqualTo("https://user.example");
        assertThat(user.source()).contains("config.yaml");
        Path other = dir.resolve("global.yaml");
        Files.writeString(other, "api_server:\n  endpoint: http://global:2\n  service_account_token: " + SECRET + "\n");
        ServerConfig global = ServerConfig.discover(Map.of("SKYPILOT_GLOBAL_CONFIG", other.toString()), home, dir, "box");
        assertThat(global.endpoint().toString()).isEqualTo("http://global:2");
        assertThat(global.token()).isEqualTo(SECRET);
        assertThat(global.toString()).doesNotContain(SECRET);
        assertThat(ServerConfig.discover(Map.of("SKYPILOT_API_SERVER_ENDPOINT", "http://env:3"), home, dir, "box")
                .endpoint().toString()).isEqualTo("http://env:3");
        assertThatThrownBy(() -> ServerConfig.discover(Map.of("SKYPILOT_API_SERVER_ENDPOINT", "ftp://x"), home, dir, "b"))
                .isInstanceOf(SkyDeckException.InvalidInput.class).hasMessageContaining("SKYPILOT_API_SERVER_ENDPOINT");
    }

    @Test
    void theUserHashIsReadFromTheFileOrDerivedAsSkyPilotDerivesIt() throws Exception {
        Path file = dir.resolve("user_hash");
        // md5("alice-" + last 4 hex of md5("box"))[:8], computed independently
        assertThat(ServerConfig.userHash(null, file, "alice", "box")).isEqualTo(expectedHash("alice", "box"));
        Files.writeString(file, "ab12cd34\n");
        assertThat(ServerConfig.userHash(null, file, "alice", "box")).isEqualTo("ab12cd34");
    }

    private static String expectedHash(String user, String host) throws Exception {
        var md5 = java.security.MessageDigest.getInstance("MD5");
        String hostHex = java.util.HexFormat.of().formatHex(md5.digest(host.getBytes(StandardCharsets.UTF_8)));
        String joined = user + "-" + hostHex.substring(28);
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("MD5")
                .digest(joined.getBytes(StandardCharsets.UTF_8))).substring(0, 8);
    }

    @Test
    void everyCallCarriesVersionHeadersAndTheServiceAccountToken() {
        healthy();
        try (SkyPilotBackend b = backend(Map.of("SKYPILOT_API_SERVER_ENDPOINT", endpoint(),
                "SKYPILOT_SERVICE_ACCOUNT_TOKEN", SECRET))) {
            assertThat(b.health().healthy()).isTrue();
        }
        server.verify(getRequestedFor(urlPathEqualTo("/api/health")).withHeader("X-SkyPilot-API-Version", equalTo("49"))
                .withHeader("X-SkyPilot-Version", equalTo("1.0.0")).withHeader("Authorization", equalTo("Bearer " + SECRET)));
    }

    @Test
    void aRefusedTokenSaysWhatToSetWithoutShowingIt() {
        server.stubFor(get(urlPathEqualTo("/api/health")).willReturn(aResponse().withStatus(401)
                .withHeader("Content-Type", "application/json")
                .withBody("{\"detail\":\"Invalid or expired service account token\"}")));
        try (SkyPilotBackend b = backend(Map.of("SKYPILOT_API_SERVER_ENDPOINT", endpoint(),
                "SKYPILOT_SERVICE_ACCOUNT_TOKEN", SECRET))) {
            var h = b.health();
            assertThat(h.healthy()).isFalse();
            assertThat(h.detail()).contains("SKYPILOT_SERVICE_ACCOUNT_TOKEN").doesNotContain(SECRET);
        }
    }

    @Test
    void ssoCookiesAreSentAndAMissingLoginSaysToRunSkyApiLogin() throws Exception {
        Path cookies = dir.resolve("cookies.txt");
        long expiry = System.currentTimeMillis() / 1000 + 7 * 86400;
        Files.writeString(cookies, "# Netscape HTTP Cookie File\n#HttpOnly_.127.0.0.1\tTRUE\t\tFALSE\t" + expiry
                + "\t_oauth2_proxy\tc2Vzc2lvbg==\n.other.host\tTRUE\t/\tFALSE\t" + expiry + "\tother\tno\n");
        healthy();
        try (SkyPilotBackend b = backend(Map.of("SKYPILOT_API_SERVER_ENDPOINT", endpoint(),
                "SKYPILOT_API_COOKIE_FILE", cookies.toString()))) {
            assertThat(b.health().healthy()).isTrue();
        }
        server.verify(getRequestedFor(urlPathEqualTo("/api/health")).withHeader("Cookie", equalTo("_oauth2_proxy=c2Vzc2lvbg==")));

        server.resetAll();
        server.stubFor(get(urlPathEqualTo("/api/health")).willReturn(aResponse().withStatus(307)
                .withHeader("Location", endpoint() + "/oauth2/start?rd=%2Fapi%2Fhealth")));
        try (SkyPilotBackend b = backend(Map.of("SKYPILOT_API_SERVER_ENDPOINT", endpoint()))) {
            assertThat(b.health().detail()).contains("sky api login -e " + endpoint());
        }
        server.stubFor(get(urlPathEqualTo("/api/health")).willReturn(aResponse().withStatus(200)
                .withHeader("X-SkyPilot-API-Version", "49").withHeader("X-SkyPilot-Version", "1.0.0")
                .withBody("{\"status\":\"needs_auth\"}")));
        try (SkyPilotBackend b = backend(Map.of("SKYPILOT_API_SERVER_ENDPOINT", endpoint()))) {
            assertThat(b.health().detail()).contains("sky api login");
        }
    }

    @Test
    void basicAuthInTheUrlIsSentAndARefusalNeverShowsThePassword() {
        healthy();
        String url = "http://alice:pa%3Ass@127.0.0.1:" + server.port();
        try (SkyPilotBackend b = backend(Map.of("SKYPILOT_API_SERVER_ENDPOINT", url))) {
            assertThat(b.endpoint()).isEqualTo(endpoint());
            assertThat(b.health().healthy()).isTrue();
        }
        String expected = "Basic " + Base64.getEncoder().encodeToString("alice:pa:ss".getBytes(StandardCharsets.UTF_8));
        server.verify(getRequestedFor(urlPathEqualTo("/api/health")).withHeader("Authorization", equalTo(expected)));

        server.resetAll();
        server.stubFor(get(urlPathEqualTo("/api/health")).willReturn(aResponse().withStatus(401)
                .withHeader("WWW-Authenticate", "Basic realm=\"SkyPilot\"").withBody("\"Invalid credentials\"")));
        try (SkyPilotBackend b = backend(Map.of("SKYPILOT_API_SERVER_ENDPOINT", url))) {
            assertThat(b.health().detail()).contains("basic-auth").doesNotContain("pa:ss").doesNotContain("pa%3Ass");
        }
    }

    @Test
    void everyCredentialTheClientReadsOrReceivesIsScrubbedFromLogsAndJobOutput() throws Exception {
        String configToken = "sky_config_token_0123456789";
        String fileCookie = "file-cookie-value-42";
        String setCookie = "server-set-cookie-77";
        Files.createDirectories(dir.resolve("home/.sky"));
        Files.writeString(dir.resolve("home/.sky/config.yaml"),
                "api_server:\n  endpoint: " + endpoint() + "\n  service_account_token: " + configToken + "\n");
        long expiry = System.currentTimeMillis() / 1000 + 86400;
        Path cookies = dir.resolve("cookies.txt");
        Files.writeString(cookies, ".127.0.0.1\tTRUE\t/\tFALSE\t" + expiry + "\tsso\t" + fileCookie + "\n");
        server.stubFor(get(urlPathEqualTo("/api/health")).willReturn(aResponse().withStatus(200)
                .withHeader("X-SkyPilot-API-Version", "49").withHeader("X-SkyPilot-Version", "1.0.0")
                .withHeader("Set-Cookie", "session=" + setCookie + "; Path=/")
                .withHeader("Content-Type", "application/json").withBody(HEALTHY)));
        String text = "token " + configToken + " cookie " + fileCookie + " session " + setCookie;
        assertThat(dev.skydeck.Secrets.redact(text)).contains(configToken, fileCookie, setCookie);

        try (SkyPilotBackend b = backend(Map.of("SKYPILOT_API_COOKIE_FILE", cookies.toString()))) {
            assertThat(b.health().healthy()).isTrue();
        }
        server.verify(getRequestedFor(urlPathEqualTo("/api/health"))
                .withHeader("Authorization", equalTo("Bearer " + configToken)));
        assertThat(dev.skydeck.Secrets.redact(text)).doesNotContain(configToken, fileCookie, setCookie)
                .isEqualTo("token [redacted] cookie [redacted] session [redacted]");

        String password = "basic-secret-pw";
        assertThat(dev.skydeck.Secrets.redact(password)).isEqualTo(password);
        try (SkyPilotBackend b = backend(Map.of("SKYPILOT_API_SERVER_ENDPOINT",
                "http://alice:" + password + "@127.0.0.1:" + server.port()))) {
            assertThat(b.endpoint()).isEqualTo(endpoint());
        }
        assertThat(dev.skydeck.Secrets.redact("pw=" + password)).isEqualTo("pw=[redacted]");
    }

    @Test
    void aServerWithoutVersionHeadersIsCalledOutAsTooOld() {
        server.stubFor(get(urlPathEqualTo("/api/health")).willReturn(aResponse().withStatus(200).withBody(HEALTHY)));
        try (SkyPilotBackend b = backend(Map.of("SKYPILOT_API_SERVER_ENDPOINT", endpoint()))) {
            assertThat(b.health().detail()).contains("too old or not a SkyPilot API server");
        }
    }

    @Test
    void aVersionMismatchSaysSkyDeckIsTooOld() {
        server.stubFor(post(urlPathEqualTo("/jobs/queue/v2")).willReturn(aResponse().withStatus(400)
                .withHeader("Content-Type", "application/json")
                .withBody("{\"error\":\"version_mismatch\",\"message\":\"client API version 49 is newer than 30\"}")));
        try (SkyPilotBackend b = backend(Map.of("SKYPILOT_API_SERVER_ENDPOINT", endpoint()))) {
            assertThatThrownBy(() -> b.list(null)).isInstanceOf(BackendException.class)
                    .hasMessageContaining("upgrade SkyDeck").hasMessageContaining("newer than 30");
        }
    }

    @Test
    void theOldRequestIdHeaderIsAcceptedAndAMissingRequiredFieldIsExplained() {
        server.stubFor(post(urlPathEqualTo("/jobs/cancel")).willReturn(aResponse().withStatus(200)
                .withHeader("X-Request-ID", "11111111-2222-3333-4444-555555555555").withBody("null")));
        server.stubFor(get(urlPathEqualTo("/api/status")).willReturn(aResponse().withStatus(200)
                .withBody("[{\"request_id\":\"11111111-2222-3333-4444-555555555555\",\"status\":\"SUCCEEDED\"}]")));
        server.stubFor(get(urlPathEqualTo("/api/get")).withQueryParam("request_id", equalTo("11111111-2222-3333-4444-555555555555"))
                .willReturn(aResponse().withStatus(200).withBody("{\"request_id\":\"11111111-2222-3333-4444-555555555555\","
                        + "\"status\":\"SUCCEEDED\",\"return_value\":\"null\",\"error\":\"null\"}")));
        try (SkyPilotBackend b = backend(Map.of("SKYPILOT_API_SERVER_ENDPOINT", endpoint()))) {
            b.cancel("7");
        }
        server.stubFor(post(urlPathEqualTo("/jobs/cancel")).willReturn(aResponse().withStatus(422)
                .withBody("{\"detail\":[{\"type\":\"missing\",\"loc\":[\"body\",\"job_ids\"],\"msg\":\"Field required\"}]}")));
        try (SkyPilotBackend b = backend(Map.of("SKYPILOT_API_SERVER_ENDPOINT", endpoint()))) {
            assertThatThrownBy(() -> b.cancel("7")).isInstanceOf(BackendException.class).hasMessageContaining("422")
                    .hasMessageContaining("Field required");
        }
        server.verify(getRequestedFor(urlPathEqualTo("/api/status"))
                .withQueryParam("request_ids", equalTo("11111111-2222-3333-4444-555555555555"))
                .withHeader("X-SkyPilot-API-Version", equalTo("49")).withHeader("X-SkyPilot-Version", equalTo("1.0.0"))
                .withHeader("Authorization", absent()).withHeader("Cookie", absent()));
    }

    @Test
    void aRestartedServerAsksForTheRequestAgain() {
        server.stubFor(post(urlPathEqualTo("/jobs/cancel")).willReturn(aResponse().withStatus(200)
                .withHeader("X-Skypilot-Request-ID", "aaaaaaaa-2222-3333-4444-555555555555").withBody("null")));
        server.stubFor(get(urlPathEqualTo("/api/status")).willReturn(aResponse().withStatus(200).withBody("[]")));
        server.stubFor(get(urlPathEqualTo("/api/get")).willReturn(aResponse().withStatus(503)
                .withBody("{\"detail\":\"Request 'aaaaaaaa-2222-3333-4444-555555555555' should be retried\"}")));
        try (SkyPilotBackend b = backend(Map.of("SKYPILOT_API_SERVER_ENDPOINT", endpoint()))) {
            assertThatThrownBy(() -> b.cancel("7")).isInstanceOf(BackendException.class)
                    .hasMessageContaining("submitted again")
                    .satisfies(e -> assertThat(((BackendException) e).retryable()).isTrue());
        }
    }
}
