package dev.skydeck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CommandLineTest {

    @TempDir
    Path tmp;

    // ---- build: the original's convention (SPEC §7) ----

    @Test
    void buildsBaseGpusNodesGitRefToolRunNameAndFlagsSortedByKey() {
        ExperimentSpec spec = ExperimentSpec.named("ppo_4layer")
                .flag("trainer.losses.ppo.enabled", true)
                .flag("policy_architecture.core_resnet_layers", 4)
                .flag("trainer.optimizer.learning_rate", 0.0003)
                .flag("wandb.tags", "ablation")
                .toolPath("recipes.experiment.arena.train")
                .gitBranch("feature/ppo")
                .nodes(2).gpus(8);

        assertThat(CommandLine.build(spec)).containsExactly(
                "lt", "--gpus=8", "--nodes=2", "--git-ref=feature/ppo", "recipes.experiment.arena.train",
                "run=ppo_4layer",
                "policy_architecture.core_resnet_layers=4",
                "trainer.losses.ppo.enabled=true",
                "trainer.optimizer.learning_rate=0.0003",
                "wandb.tags=ablation");
    }

    @Test
    void leavesOutGitRefAndToolPathWhenAbsent() {
        assertThat(CommandLine.build(ExperimentSpec.named("e1")))
                .containsExactly("lt", "--gpus=0", "--nodes=1", "run=e1");
    }

    @Test
    void passesTheRunNameAsRunWhenOneIsSet() {
        ExperimentSpec spec = ExperimentSpec.named("PPO 4 Layers").runName("daveey.ppo_4layer");
        assertThat(CommandLine.build(spec)).containsExactly("lt", "--gpus=0", "--nodes=1", "run=daveey.ppo_4layer");
        assertThat(spec.configHash()).isNotEqualTo(spec.runName(null).configHash());
        assertThat(ExperimentSpec.named("e1").runName("").runName()).isNull();
    }

    @Test
    void aNameWithSpacesAndParenthesesIsOneQuotedArgument() {
        List<String> args = CommandLine.build(ExperimentSpec.named("daveey.nav.baseline (copy)"));
        assertThat(args).containsExactly("lt", "--gpus=0", "--nodes=1", "run=daveey.nav.baseline (copy)");
        assertThat(CommandLine.render(args)).isEqualTo("lt --gpus=0 --nodes=1 'run=daveey.nav.baseline (copy)'");
        assertThat(CommandLine.split(CommandLine.render(args))).isEqualTo(args);
        List<String> nasty = CommandLine.build(ExperimentSpec.named("x'; rm -rf ~; echo '$(id)"));
        assertThat(CommandLine.split(CommandLine.render(nasty))).isEqualTo(nasty);
    }

    @Test
    void splitsTheBaseCommandIntoWords() {
        ExperimentSpec spec = ExperimentSpec.named("e1").baseCommand("uv run  'my tool' --x");
        assertThat(CommandLine.build(spec)).startsWith("uv", "run", "my tool", "--x", "--gpus=0");
    }

    @Test
    void sortsFlagsByKeyWhateverTheirInsertionOrder() {
        ExperimentSpec spec = ExperimentSpec.named("e1").flag("b", 1).flag("a.z", 2).flag("a", 3).flag("A", 4);
        assertThat(CommandLine.build(spec)).endsWith("A=4", "a=3", "a.z=2", "b=1");
    }

    @Test
    void booleansAreLowerCaseAndLongsPlain() {
        assertThat(CommandLine.format(true)).isEqualTo("true");
        assertThat(CommandLine.format(false)).isEqualTo("false");
        assertThat(CommandLine.format(0L)).isEqualTo("0");
        assertThat(CommandLine.format(-42L)).isEqualTo("-42");
        assertThat(CommandLine.format(Long.MAX_VALUE)).isEqualTo("9223372036854775807");
        assertThat(CommandLine.format("a b")).isEqualTo("a b");
    }

    /** Doubles print exactly as Python's repr() (the original SkyDeck) prints them. */
    @ParameterizedTest
    @CsvSource({
        "0.1, 0.1",
        "3.0, 3.0",
        "-3.0, -3.0",
        "0.0, 0.0",
        "-0.0, -0.0",
        "0.0003, 0.0003",
        "0.0001, 0.0001",
        "0.00001, 1e-05",
        "1e-7, 1e-07",
        "1.5e-7, 1.5e-07",
        "2.5e-300, 2.5e-300",
        "123456789.0, 123456789.0",
        "1e15, 1000000000000000.0",
        "1e16, 1e+16",
        "1.2345e17, 1.2345e+17",
        "1e100, 1e+100",
        "0.30000000000000004, 0.30000000000000004",
        "1.7976931348623157e308, 1.7976931348623157e+308",
        "4.9e-324, 5e-324",
        "5.684341886080802E-14, 5.684341886080802e-14",
        "2.0E23, 2e+23",
        "9007199254740993, 9007199254740992.0",
    })
    void doublesUseTheShortestDigitsThatReadBackInPythonReprLayout(double value, String expected) {
        assertThat(CommandLine.format(value)).isEqualTo(expected);
    }

    @Test
    void formattedDoublesReadBackAsTheSameDoubleAndNeverLookLikeWholeNumbers() {
        Random random = new Random(7);
        for (int i = 0; i < 20_000; i++) {
            double d = switch (i % 3) {
                case 0 -> Double.longBitsToDouble(random.nextLong());
                case 1 -> random.nextDouble() * Math.pow(10, random.nextInt(40) - 20);
                default -> Math.round(random.nextDouble() * 1e6) / 1e3;
            };
            if (!Double.isFinite(d)) {
                continue;
            }
            String text = CommandLine.format(d);
            assertThat(Double.parseDouble(text)).as(text).isEqualTo(d);
            assertThat(text).as("%s for %s", text, d).containsAnyOf(".", "e");
            assertThat(significantDigits(text)).as(text).isLessThanOrEqualTo(significantDigits(Double.toString(d)));
        }
    }

    // ---- split ----

    @Test
    void splitHonoursSingleQuotesDoubleQuotesAndBackslashes() {
        assertThat(CommandLine.split("lt")).containsExactly("lt");
        assertThat(CommandLine.split("  a \t b  ")).containsExactly("a", "b");
        assertThat(CommandLine.split("a 'b c' \"d e\"")).containsExactly("a", "b c", "d e");
        assertThat(CommandLine.split("'it'\\''s'")).containsExactly("it's");
        assertThat(CommandLine.split("\"say \\\"hi\\\" \\$HOME \\`x\\` \\\\ \\n\""))
                .containsExactly("say \"hi\" $HOME `x` \\ \\n");
        assertThat(CommandLine.split("a\\ b c")).containsExactly("a b", "c");
        assertThat(CommandLine.split("x '' \"\"")).containsExactly("x", "", "");
        assertThat(CommandLine.split("a'b'\"c\"d")).containsExactly("abcd");
        assertThat(CommandLine.split("'$(rm -rf /)' ;")).containsExactly("$(rm -rf /)", ";");
    }

    @Test
    void splitRefusesUnterminatedQuotes() {
        assertThatThrownBy(() -> CommandLine.split("lt 'oops"))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("unterminated single quote")
                .hasMessageContaining("lt 'oops");
        assertThatThrownBy(() -> CommandLine.split("lt \"oops"))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("unterminated double quote");
    }

    @Test
    void splitRefusesAnEmptyCommand() {
        assertThatThrownBy(() -> CommandLine.split("   "))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("must not be empty");
    }

    @Test
    void splitReadsBackWhatRenderWrites() {
        List<String> args = List.of("lt", "it's", "a b", "$(x)", "", "=x", "k=v w", "\"q\"", "back\\slash");
        assertThat(CommandLine.split(CommandLine.render(args))).isEqualTo(args);
    }

    // ---- render / quote ----

    @Test
    void quoteLeavesSafeWordsAloneAndSingleQuotesTheRest() {
        assertThat(CommandLine.quote("trainer.lr=0.1")).isEqualTo("trainer.lr=0.1");
        assertThat(CommandLine.quote("--git-ref=feature/x")).isEqualTo("--git-ref=feature/x");
        assertThat(CommandLine.quote("")).isEqualTo("''");
        assertThat(CommandLine.quote("a b")).isEqualTo("'a b'");
        assertThat(CommandLine.quote("it's")).isEqualTo("'it'\"'\"'s'");
        assertThat(CommandLine.quote("~/x")).isEqualTo("'~/x'");
        assertThat(CommandLine.quote("=ls")).isEqualTo("'=ls'");
    }

    @Test
    void renderQuotesAFirstWordThatTheShellWouldTakeForAnAssignment() {
        assertThat(CommandLine.render(List.of("FOO=1", "k=v"))).isEqualTo("'FOO=1' k=v");
    }

    @Test
    void renderOfAnInjectingBaseCommandRunsNothingButTheProgram() throws Exception {
        ExperimentSpec spec = ExperimentSpec.named("e1").baseCommand("lt; rm -rf / $(touch pwned)")
                .flag("x", "`touch pwned`; echo $HOME");
        List<String> args = CommandLine.build(spec);
        assertThat(args).startsWith("lt;", "rm", "-rf", "/", "$(touch");
        assertThat(throughShell(args)).isEqualTo(args);
        assertThat(tmp.resolve("pwned")).doesNotExist();
    }

    /**
     * The real-shell check: whatever the arguments, {@code /bin/sh} running
     * {@code printf '%s\0' <render(args)>} prints back exactly those arguments.
     */
    @Test
    void aRealShellReadsRenderedArgumentsBackExactly() throws Exception {
        Random random = new Random(20261122);
        for (int batch = 0; batch < 25; batch++) {
            List<String> args = new ArrayList<>();
            for (int i = 0; i < 24; i++) {
                args.add(randomArgument(random));
            }
            assertThat(throughShell(args)).as("batch %d", batch).isEqualTo(args);
        }
        assertThat(tmp.resolve("pwned")).doesNotExist();
    }

    @Test
    void aRealShellReadsEveryNastyArgumentBackAlone() throws Exception {
        List<String> nasty = List.of("", " ", "'", "''", "\"", "\\", "\\'", "'\\''", "$HOME", "${HOME}",
                "$(touch pwned)", "`touch pwned`", "; touch pwned", "&& touch pwned", "| touch pwned",
                "> pwned", "< /etc/passwd", "*", "?", "[a]", "{a,b}", "~", "~root", "#comment", "!", "!!",
                "a\nb", "\n", "\t", "\r", "x=y", "=x", "-n", "--", "%s", "%%", "\\0", "日本語", "é", "😀",
                "\u00a0", "\u2028", "a'b\"c$d`e\\f");
        for (String arg : nasty) {
            List<String> args = List.of(arg);
            assertThat(throughShell(args)).as("%s rendered as %s", arg, CommandLine.render(args))
                    .isEqualTo(args);
        }
        assertThat(tmp.resolve("pwned")).doesNotExist();
    }

    private static final String ALPHABET = "abcXYZ019 _-.=/:,+@%~'\"\\$`;|&<>(){}[]*?!#^\t\n\r";
    private static final String[] UNICODE = {"é", "日本", "😀", "\u00a0", "\u2028", "ß", "\u0301", "\u202e"};

    private static String randomArgument(Random random) {
        int length = random.nextInt(12);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < length; i++) {
            if (random.nextInt(8) == 0) {
                sb.append(UNICODE[random.nextInt(UNICODE.length)]);
            } else if (random.nextInt(20) == 0) {
                sb.appendCodePoint(1 + random.nextInt(0x7f)); // any ASCII except NUL
            } else {
                sb.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
            }
        }
        return sb.toString();
    }

    /**
     * Runs {@code printf '%s\0' <render(args)>} in /bin/sh, in the temp directory, and splits its
     * output on NUL. The script goes through a UTF-8 file rather than {@code sh -c} so that the
     * bytes the shell sees do not depend on the JVM's argument encoding.
     */
    private List<String> throughShell(List<String> args) throws IOException, InterruptedException {
        Path script = Files.createTempFile(tmp, "render", ".sh");
        Files.writeString(script, "printf '%s\\0' " + CommandLine.render(args) + "\n", StandardCharsets.UTF_8);
        Process process = new ProcessBuilder("/bin/sh", script.toString())
                .directory(tmp.toFile())
                .redirectErrorStream(true)
                .start();
        byte[] out;
        try (InputStream in = process.getInputStream()) {
            out = in.readAllBytes();
        }
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(new String(out, StandardCharsets.UTF_8)).isZero();
        List<String> words = new ArrayList<>();
        ByteArrayOutputStream word = new ByteArrayOutputStream();
        for (byte b : out) {
            if (b == 0) {
                words.add(word.toString(StandardCharsets.UTF_8));
                word.reset();
            } else {
                word.write(b);
            }
        }
        assertThat(word.size()).as("output after the last NUL").isZero();
        return words;
    }

    private static int significantDigits(String text) {
        String mantissa = text.toLowerCase().split("e")[0].replace("-", "").replace(".", "");
        mantissa = mantissa.replaceFirst("^0+", "").replaceFirst("0+$", "");
        return Math.max(1, mantissa.length());
    }
}
