package dev.skydeck.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.skydeck.SkyDeckException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Configuration: flags over environment over defaults, and a bad value names its setting. */
class SettingsTest {
    @TempDir
    Path dir;

    @Test
    void defaultsAreLoopbackPort8000AndTheHomeFolder() {
        Settings s = Settings.load(Map.of("SKYDECK_HOME", dir.toString()), Map.of());
        assertThat(s.host()).isEqualTo("127.0.0.1");
        assertThat(s.port()).isEqualTo(8000);
        assertThat(s.dbPath()).isEqualTo(dir.resolve("skydeck.db"));
        assertThat(s.pidFile()).isEqualTo(dir.resolve("skydeck.pid"));
        assertThat(s.logFile()).isEqualTo(dir.resolve("skydeck.log"));
        assertThat(s.pollInterval()).isEqualTo(Duration.ofSeconds(30));
        assertThat(s.reconcileInterval()).isEqualTo(Duration.ofSeconds(60));
        assertThat(s.syncInterval()).isEqualTo(Duration.ofSeconds(60));
        assertThat(s.backend()).isEqualTo("auto");
        assertThat(s.authToken()).isNull();
        assertThat(s.localUrl()).isEqualTo("http://127.0.0.1:8000");
    }

    @Test
    void flagsOverrideTheEnvironment() {
        Settings s = Settings.load(Map.of("SKYDECK_PORT", "9000", "SKYDECK_HOST", "0.0.0.0",
                "SKYDECK_DB_PATH", dir.resolve("env.db").toString(), "SKYDECK_POLL_INTERVAL", "5"),
                Map.of("SKYDECK_PORT", "9100", "SKYDECK_DB_PATH", dir.resolve("flag.db").toString()));
        assertThat(s.port()).isEqualTo(9100);
        assertThat(s.host()).isEqualTo("0.0.0.0");
        assertThat(s.dbPath()).isEqualTo(dir.resolve("flag.db"));
        assertThat(s.pollInterval()).isEqualTo(Duration.ofSeconds(5));
        assertThat(s.localUrl()).isEqualTo("http://127.0.0.1:9100");
    }

    @Test
    void linksAndAllowListsAreParsed() {
        Settings s = Settings.load(Map.of("SKYDECK_LINKS", "W&B=https://wandb.ai/x/{name}, Logs=https://logs/{name}",
                "SKYDECK_ALLOWED_HOSTS", "a.example, b.example", "SKYDECK_ALLOWED_ORIGINS", "http://localhost:5173"),
                Map.of());
        assertThat(s.links()).containsEntry("W&B", "https://wandb.ai/x/{name}").containsEntry("Logs", "https://logs/{name}");
        assertThat(s.allowedHosts()).containsExactlyInAnyOrder("a.example", "b.example");
        assertThat(s.allowedOrigins()).containsExactly("http://localhost:5173");
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', value = {
            "SKYDECK_PORT|abc|SKYDECK_PORT='abc'",
            "SKYDECK_PORT|70000|SKYDECK_PORT='70000'",
            "SKYDECK_HOST|a b|SKYDECK_HOST='a b'",
            "SKYDECK_POLL_INTERVAL|0|SKYDECK_POLL_INTERVAL='0'",
            "SKYDECK_RECONCILE_INTERVAL|soon|SKYDECK_RECONCILE_INTERVAL='soon'",
            "SKYDECK_SYNC_INTERVAL|-5|SKYDECK_SYNC_INTERVAL='-5'",
            "SKYDECK_BACKEND|kubernetes|SKYDECK_BACKEND='kubernetes'",
            "SKYDECK_LINKS|no-url|SKYDECK_LINKS='no-url'",
            "SKYDECK_LINKS|x=javascript:alert(1)|SKYDECK_LINKS",
            "SKYDECK_ALLOWED_ORIGINS|evil|SKYDECK_ALLOWED_ORIGINS='evil'",
            "SKYDECK_UI_DIR|/nonexistent|SKYDECK_UI_DIR"})
    void aBadValueNamesItsSetting(String name, String value, String message) {
        assertThatThrownBy(() -> Settings.load(Map.of(name, value), Map.of()))
                .isInstanceOf(SkyDeckException.InvalidInput.class).hasMessageContaining(message);
    }

    @Test
    void aDirectoryAsDatabaseIsRefused() {
        assertThatThrownBy(() -> Settings.load(Map.of("SKYDECK_DB_PATH", dir.toString()), Map.of()))
                .hasMessageContaining("SKYDECK_DB_PATH").hasMessageContaining("directory");
    }

    @Test
    void aBadTokenIsRefusedWithoutEchoingIt() {
        assertThatThrownBy(() -> Settings.load(Map.of("SKYDECK_AUTH_TOKEN", "tooshort"), Map.of()))
                .hasMessageContaining("SKYDECK_AUTH_TOKEN").hasMessageNotContaining("tooshort");
        Settings s = Settings.load(Map.of("SKYDECK_AUTH_TOKEN", "0123456789abcdef0123"), Map.of());
        assertThat(s.toString()).doesNotContain("0123456789abcdef0123").contains("token=set");
    }
}
