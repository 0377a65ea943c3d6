package dev.skydeck;

import static org.assertj.core.api.Assertions.assertThat;

import dev.skydeck.internal.local.JobEnvironment;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SecretsTest {
    @Test
    void secretLookingNamesAreSecrets() {
        assertThat(List.of("SKYDECK_AUTH_TOKEN", "SKYPILOT_SERVICE_ACCOUNT_TOKEN", "AWS_ACCESS_KEY_ID", "PGPASSWORD",
                "GIT_TOKEN", "MY_API_KEY", "DB_SECRET", "aws_session_token")).allMatch(Secrets::isSecretName);
        assertThat(List.of("PATH", "HOME", "LANG", "CUDA_HOME", "PYTHONPATH")).noneMatch(Secrets::isSecretName);
    }

    @Test
    void passwordsInDatabaseUrlsAreFound() {
        assertThat(Secrets.secretsOf(Map.of("SKYDECK_DB_URL", "jdbc:postgresql://db:5432/deck?user=u&password=p%40ss-word1")))
                .contains("p%40ss-word1", "p@ss-word1");
        assertThat(Secrets.secretsOf(Map.of("URL", "postgresql://deck:hunter2222@db/deck"))).contains("hunter2222");
    }

    @Test
    void registeredSecretsAreRedactedEvenAcrossReadsOfAStream() throws IOException {
        Secrets.register("s3cr3t-value-0001");
        assertThat(Secrets.redact("token=s3cr3t-value-0001 ok")).isEqualTo("token=[redacted] ok");
        // the secret arrives one character at a time: it is still replaced whole
        Reader slow = new Reader() {
            final StringReader in = new StringReader("a s3cr3t-value-0001 b\nline two s3cr3t-value-0001");

            @Override
            public int read(char[] buf, int off, int len) throws IOException {
                return in.read(buf, off, Math.min(len, 1));
            }

            @Override
            public void close() {
            }
        };
        StringWriter out = new StringWriter();
        Secrets.redacting(slow).transferTo(out);
        assertThat(out.toString()).isEqualTo("a [redacted] b\nline two [redacted]");
    }

    @Test
    void aJobGetsTheAllowListItsOwnVariablesAndWhatIsPassedOnPurpose() {
        Map<String, String> server = Map.of("PATH", "/usr/bin", "HOME", "/home/u", "LC_ALL", "C", "CUDA_HOME", "/cuda",
                "SKYDECK_AUTH_TOKEN", "tok-123456789", "AWS_SECRET_ACCESS_KEY", "k", "CUDA_TOKEN", "x",
                "WANDB_API_KEY", "w-123", "RANDOM_SETTING", "r");
        Map<String, String> env = JobEnvironment.of(server, List.of("WANDB_API_KEY"), Map.of("SKYDECK_LAUNCH_ID", "j-1"));
        assertThat(env).containsOnlyKeys("PATH", "HOME", "LC_ALL", "CUDA_HOME", "WANDB_API_KEY", "SKYDECK_LAUNCH_ID");
    }
}
