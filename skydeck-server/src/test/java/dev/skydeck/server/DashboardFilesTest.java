package dev.skydeck.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.skydeck.server.TestServer.Response;
import dev.skydeck.testing.NoThreadLeaks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** A built dashboard is served with the single-page-app fallback and long-lived caching of hashed assets. */
@ExtendWith(NoThreadLeaks.class)
class DashboardFilesTest {
    @TempDir
    Path dir;

    @Test
    void filesAreServedAndUnknownRoutesGetIndexHtml() throws IOException {
        Path ui = Files.createDirectories(dir.resolve("ui"));
        Files.writeString(ui.resolve("index.html"), "<!doctype html><title>dash</title><div id=root></div>");
        Files.createDirectories(ui.resolve("assets"));
        Files.writeString(ui.resolve("assets").resolve("app-1234.js"), "console.log(1)");
        Files.writeString(dir.resolve("secret.txt"), "do not serve");
        try (TestServer s = TestServer.start(dir.resolve("state"), b -> b.uiDirectory(ui))) {
            Response index = s.get("/");
            assertThat(index.body()).contains("<title>dash</title>");
            assertThat(index.header("Cache-Control")).isEqualTo("no-cache");
            Response js = s.get("/assets/app-1234.js");
            assertThat(js.header("Content-Type")).startsWith("text/javascript");
            assertThat(js.header("Cache-Control")).contains("immutable");
            assertThat(s.get("/jobs?active=true").body()).contains("<title>dash</title>");
            assertThat(s.get("/../secret.txt").body()).doesNotContain("do not serve");
            assertThat(s.get("/%2e%2e/secret.txt").body()).doesNotContain("do not serve");
            assertThat(s.get("/api/unknown").status()).isEqualTo(404);
        }
    }
}
