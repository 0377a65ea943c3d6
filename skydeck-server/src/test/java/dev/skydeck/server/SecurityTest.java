package dev.skydeck.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.skydeck.SkyDeck;
import dev.skydeck.Secrets;
import dev.skydeck.SkyDeckException;
import dev.skydeck.cli.internal.LogConfiguration;
import dev.skydeck.server.TestServer.Response;
import dev.skydeck.memory.InMemoryStore;
import dev.skydeck.testing.FakeBackend;
import dev.skydeck.testing.NoThreadLeaks;
import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** SPEC §13, one behaviour each. */
@ExtendWith(NoThreadLeaks.class)
class SecurityTest {
    static final String TOKEN = "s3cret-token-0123456789abcdef";

    @TempDir
    Path dir;

    @Test
    void itBindsToLoopbackByDefault() {
        try (SkyDeck deck = SkyDeck.builder().store(new InMemoryStore()).backend(new FakeBackend(java.time.Clock.systemUTC())).build();
             SkyDeckServer server = SkyDeckServer.builder(deck).port(0).build().start()) {
            assertThat(server.url()).startsWith("http://127.0.0.1:");
        }
    }

    @Test
    void aNonLoopbackBindWithoutATokenRefusesToStart() {
        try (SkyDeck deck = SkyDeck.builder().store(new InMemoryStore()).backend(new FakeBackend(java.time.Clock.systemUTC())).build()) {
            assertThatThrownBy(() -> SkyDeckServer.builder(deck).host("0.0.0.0").port(0).build())
                    .isInstanceOf(SkyDeckException.InvalidInput.class)
                    .hasMessageContaining("refusing to listen on 0.0.0.0").hasMessageContaining("SKYDECK_AUTH_TOKEN");
            assertThatThrownBy(() -> SkyDeckServer.builder(deck).host("0.0.0.0").authToken("short").port(0).build())
                    .hasMessageContaining("at least 16");
        }
    }

    @Test
    void withATokenEveryApiRequestNeedsIt() {
        try (TestServer s = TestServer.start(dir, b -> b.host("0.0.0.0").authToken(TOKEN))) {
            Response none = s.get("/api/health");
            assertThat(none.status()).isEqualTo(401);
            assertThat(none.header("WWW-Authenticate")).startsWith("Bearer");
            assertThat(none.detail()).contains("Authorization: Bearer").doesNotContain(TOKEN);
            s.token("wrong-token-wrong-token-wrong");
            assertThat(s.get("/api/experiments").status()).isEqualTo(401);
            assertThat(s.post("/api/experiments", "{\"name\": \"a\"}").status()).isEqualTo(401);
            assertThat(s.get("/api/events").status()).isEqualTo(401);
            s.token(TOKEN);
            assertThat(s.get("/api/health").status()).isEqualTo(200);
            assertThat(s.post("/api/experiments", "{\"name\": \"a\"}").status()).isEqualTo(201);
            s.token(null);
            // the dashboard's page loads without it (it asks for the token)
            assertThat(s.get("/").status()).isEqualTo(200);
        }
    }

    @Test
    void unsafeRequestsFromAForeignOriginAreRefused() {
        try (TestServer s = TestServer.start(dir, b -> b.allowedOrigins(Set.of("http://localhost:5173")))) {
            Response foreign = s.send(s.builder("/api/experiments").header("Content-Type", "application/json")
                    .header("Origin", "http://evil.example").POST(HttpRequest.BodyPublishers.ofString("{\"name\": \"a\"}")));
            assertThat(foreign.status()).isEqualTo(403);
            assertThat(foreign.detail()).contains("evil.example");
            Response own = s.send(s.builder("/api/experiments").header("Content-Type", "application/json")
                    .header("Origin", s.server.url()).POST(HttpRequest.BodyPublishers.ofString("{\"name\": \"b\"}")));
            assertThat(own.status()).isEqualTo(201);
            Response dev = s.send(s.builder("/api/experiments").header("Content-Type", "application/json")
                    .header("Origin", "http://localhost:5173").POST(HttpRequest.BodyPublishers.ofString("{\"name\": \"c\"}")));
            assertThat(dev.status()).isEqualTo(201);
            Response delete = s.send(s.builder("/api/experiments/b").header("Origin", "http://evil.example").DELETE());
            assertThat(delete.status()).isEqualTo(403);
            assertThat(s.get("/api/experiments").header("X-Total-Count")).isEqualTo("2");
        }
    }

    @Test
    void onlyAllowedOriginsGetCorsHeadersAndPreflights() {
        try (TestServer s = TestServer.start(dir, b -> b.allowedOrigins(Set.of("http://dash.example:5173"))
                .authToken(TOKEN))) {
            Response preflight = s.send(s.builder("/api/experiments").header("Origin", "http://dash.example:5173")
                    .header("Access-Control-Request-Method", "POST")
                    .header("Access-Control-Request-Headers", "authorization, content-type")
                    .method("OPTIONS", HttpRequest.BodyPublishers.noBody()));
            assertThat(preflight.status()).isEqualTo(204);
            assertThat(preflight.header("Access-Control-Allow-Origin")).isEqualTo("http://dash.example:5173");
            assertThat(preflight.header("Access-Control-Allow-Headers")).contains("Authorization");
            s.token(TOKEN);
            Response get = s.send(s.builder("/api/experiments").header("Origin", "http://dash.example:5173"));
            assertThat(get.status()).isEqualTo(200);
            assertThat(get.header("Access-Control-Allow-Origin")).isEqualTo("http://dash.example:5173");
            assertThat(get.header("Access-Control-Expose-Headers")).contains("X-Total-Count");
            Response foreign = s.send(s.builder("/api/experiments").header("Origin", "http://evil.example"));
            assertThat(foreign.header("Access-Control-Allow-Origin")).isNull();
            Response foreignPreflight = s.send(s.builder("/api/experiments").header("Origin", "http://evil.example")
                    .header("Access-Control-Request-Method", "POST").method("OPTIONS", HttpRequest.BodyPublishers.noBody()));
            assertThat(foreignPreflight.header("Access-Control-Allow-Origin")).isNull();
        }
    }

    /**
     * The dashboard's "Backend address" setting: a page of this server may call the servers named in
     * SKYDECK_ALLOWED_ORIGINS (its Content-Security-Policy's connect-src lists them), so two servers
     * that allow each other can show each other's decks; any other address stays blocked.
     */
    @Test
    void thePageMayConnectToTheAllowedOriginsOnly() {
        try (TestServer s = TestServer.start(dir, b -> b.allowedOrigins(Set.of("http://b.example:8001")))) {
            for (Response r : new Response[] {s.get("/"), s.get("/api/health"), s.get("/api/nope")}) {
                String csp = r.header("Content-Security-Policy");
                assertThat(csp).contains("connect-src 'self' http://b.example:8001;");
                assertThat(csp).doesNotContain("evil");
            }
        }
    }

    @Test
    void unknownHostHeadersAreRefused() {
        try (TestServer s = TestServer.start(dir, b -> b.allowedHosts(Set.of("skydeck.internal")))) {
            Response rebound = s.send(s.builder("/api/health").header("Host", "attacker.example"));
            assertThat(rebound.status()).isEqualTo(403);
            assertThat(rebound.detail()).contains("unknown Host 'attacker.example'");
            assertThat(s.send(s.builder("/").header("Host", "attacker.example")).status()).isEqualTo(403);
            assertThat(s.send(s.builder("/api/health").header("Host", "skydeck.internal:8000")).status()).isEqualTo(200);
            assertThat(s.send(s.builder("/api/health").header("Host", "localhost")).status()).isEqualTo(200);
        }
    }

    @Test
    void aChunkedBodyOverOneMebibyteIsRefused() {
        try (TestServer s = TestServer.start(dir)) {
            byte[] big = ("{\"name\": \"big\", \"description\": \"" + "a".repeat(1_200_000) + "\"}").getBytes();
            Response r = s.send(s.builder("/api/experiments").header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big))));
            assertThat(r.status()).isEqualTo(413);
            assertThat(s.get("/api/experiments").header("X-Total-Count")).isEqualTo("0");
        }
    }

    @Test
    void everyResponseCarriesTheSecurityHeaders() {
        try (TestServer s = TestServer.start(dir)) {
            for (Response r : new Response[] {s.get("/api/health"), s.get("/"), s.get("/api/nope"),
                    s.post("/api/experiments", "{")}) {
                assertThat(r.header("Content-Security-Policy")).contains("default-src 'self'")
                        .contains("frame-ancestors 'none'").contains("connect-src 'self';");
                assertThat(r.header("X-Frame-Options")).isEqualTo("DENY");
                assertThat(r.header("X-Content-Type-Options")).isEqualTo("nosniff");
                assertThat(r.header("Referrer-Policy")).isEqualTo("no-referrer");
            }
        }
    }

    /** Configures logging as shipped ({@code null}) or from one of the tests' configuration files. */
    private static void configureLogging(String resource) throws Exception {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        context.reset();
        if (resource == null) {
            LogConfiguration.apply(context);
            return;
        }
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        configurator.doConfigure(SecurityTest.class.getClassLoader().getResource(resource));
    }

    @Test
    void theShippedLogLineRedactsSecretsInMessagesAndStackTraces() {
        String secret = "s3cr3t-" + java.util.UUID.randomUUID();
        Secrets.register(secret);
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
        System.setProperty("SKYDECK_LOG_LEVEL", "DEBUG");
        try {
            LogConfiguration.apply(context);
        } finally {
            System.clearProperty("SKYDECK_LOG_LEVEL");
        }
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        assertThat(root.getLevel()).isEqualTo(Level.DEBUG);
        assertThat(context.getLogger("org.eclipse.jetty.server").getEffectiveLevel()).isEqualTo(Level.WARN);
        var out = (ch.qos.logback.core.OutputStreamAppender<ILoggingEvent>) root.getAppender("OUT");
        context.getMDCAdapter().put("experiment", "exp-a");
        try {
            var event = new ch.qos.logback.classic.spi.LoggingEvent(SecurityTest.class.getName(),
                    context.getLogger("dev.skydeck.Engine"), Level.WARN, "launch with key " + secret + " failed",
                    new IllegalStateException("server said: bad key " + secret), null);
            String line = new String(out.getEncoder().encode(event), java.nio.charset.StandardCharsets.UTF_8);
            assertThat(line).contains(" WARN  [").contains("Engine [exp-a] - launch with key [redacted] failed")
                    .contains("IllegalStateException: server said: bad key [redacted]")
                    .doesNotContain(secret);
        } finally {
            context.getMDCAdapter().remove("experiment");
            context.stop();
        }
    }

    @Test
    void theTokenNeverAppearsInAResponseOrTheLog() throws Exception {
        // the shipped logging configuration at its most verbose (SKYDECK_LOG_LEVEL=DEBUG)
        System.setProperty("SKYDECK_LOG_LEVEL", "DEBUG");
        configureLogging(null);
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        assertThat(root.getLevel()).isEqualTo(Level.DEBUG);
        root.detachAndStopAllAppenders(); // the shipped console output: the events are checked below, not printed
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        root.addAppender(logs);
        try (TestServer s = TestServer.start(dir, b -> b.host("0.0.0.0").authToken(TOKEN))) {
            StringBuilder bodies = new StringBuilder();
            bodies.append(s.get("/api/health").body());
            s.token(TOKEN);
            bodies.append(s.get("/api/health").body());
            bodies.append(s.post("/api/experiments", "{\"name\": \"a\"}").body());
            bodies.append(s.post("/api/experiments", "{\"name\": ").body());
            bodies.append(s.get("/api/openapi.json").body());
            bodies.append(s.get("/api/operation-logs").body());
            assertThat(bodies.toString()).doesNotContain(TOKEN);
        } finally {
            root.detachAppender(logs);
            System.clearProperty("SKYDECK_LOG_LEVEL");
            configureLogging("logback-test.xml");
        }
        assertThat(logs.list).isNotEmpty();
        assertThat(logs.list).noneSatisfy(e -> assertThat(e.getFormattedMessage()).contains(TOKEN));
    }
}
