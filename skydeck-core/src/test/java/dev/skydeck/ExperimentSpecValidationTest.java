package dev.skydeck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ExperimentSpecValidationTest {

    private static final ExperimentSpec VALID = ExperimentSpec.named("e1");

    // ---- names ----

    @ParameterizedTest
    @ValueSource(strings = {"", ".", "..", "-rf", "../x", "a/b", "a\\b", " lead", "trail ", "tab\tname", "new\nline",
        "bidi\u202Eoverride", "line\u2028separator", "nul\u0000"})
    void refusesBadNamesNamingTheValue(String name) {
        assertThatThrownBy(() -> ExperimentSpec.named(name))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("experiment name")
                .hasMessageContaining("'" + name.replaceAll("[\\p{Cntrl}\\p{Cf}\\p{Zl}\\p{Zp}]", "?") + "'");
    }

    @Test
    void refusesAMissingName() {
        assertThatThrownBy(() -> ExperimentSpec.named(null))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("experiment name (missing)");
    }

    @Test
    void acceptsNamesOfUpTo128CharactersAndRefuses129() {
        String ok = "a".repeat(128);
        assertThat(ExperimentSpec.named(ok).name()).isEqualTo(ok);
        assertThatThrownBy(() -> ExperimentSpec.named("b".repeat(129)))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("'" + "b".repeat(60) + "…'")
                .hasMessageContaining("1 to 128");
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "0", "ppo_4layer", "run-1.2_b", "A.b-c_D", "daveey.nav.baseline (copy)",
        "Test PPO Training", ".hidden", "x;y", "$(x)", "it's \"quoted\"", "ü", "日本語 run", "emoji 🚀"})
    void acceptsWhatTheOriginalSkyDecksNamesHold(String name) {
        assertThat(ExperimentSpec.named(name).name()).isEqualTo(name);
    }

    // ---- flag keys ----

    @ParameterizedTest
    @ValueSource(strings = {"1abc", "a..b", "a.", "a b", "", ".a", "-a", "a=b", "a;b", "$x", "a\nb"})
    void refusesBadFlagKeysNamingTheKey(String key) {
        assertThatThrownBy(() -> VALID.flag(key, 1))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("flag key '" + key.replaceAll("\\p{Cntrl}", "?") + "'");
        assertThatThrownBy(() -> VALID.flags(Map.of(key, 1)))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("flag key");
    }

    @Test
    void refusesANullFlagKey() {
        Map<String, Object> flags = new HashMap<>();
        flags.put(null, 1);
        assertThatThrownBy(() -> VALID.flags(flags))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("flag key (missing)");
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "_a", "trainer.losses.ppo.enabled", "a-b.c_d", "A1.b2"})
    void acceptsDottedIdentifiers(String key) {
        assertThat(VALID.flag(key, 1).flags()).containsKey(key);
    }

    // ---- flag values ----

    @Test
    void refusesANullFlagValueNamingTheFlag() {
        assertThatThrownBy(() -> VALID.flag("lr", null))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("flag lr")
                .hasMessageContaining("(null)");
    }

    @Test
    void refusesListsAndMapsAsFlagValues() {
        assertThatThrownBy(() -> VALID.flag("layers", List.of(1, 2)))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("flag layers")
                .hasMessageContaining("use a string, a whole number, a decimal number or a boolean");
        assertThatThrownBy(() -> VALID.flag("opt", Map.of("lr", 1)))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("flag opt");
        assertThatThrownBy(() -> VALID.flag("obj", new Object()))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("flag obj");
    }

    @Test
    void refusesNonFiniteNumbersNamingFlagAndValue() {
        assertThatThrownBy(() -> VALID.flag("lr", Double.NaN))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("flag lr = NaN");
        assertThatThrownBy(() -> VALID.flag("lr", Double.POSITIVE_INFINITY))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("flag lr = Infinity");
        assertThatThrownBy(() -> VALID.flag("lr", Float.NEGATIVE_INFINITY))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("flag lr = -Infinity");
        assertThatThrownBy(() -> VALID.flag("lr", new BigDecimal("1e400")))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("flag lr = Infinity");
    }

    @ParameterizedTest
    @ValueSource(strings = {"a\nb", "a\rb", "\u0000", "x\u001b[31m", "\u007f"})
    void refusesControlCharactersInStringValues(String value) {
        assertThatThrownBy(() -> VALID.flag("note", value))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("flag note")
                .hasMessageContaining("without control characters");
    }

    @Test
    void refusesStringValuesLongerThan4096Characters() {
        assertThat(VALID.flag("s", "x".repeat(4096)).flags()).containsKey("s");
        assertThatThrownBy(() -> VALID.flag("s", "x".repeat(4097)))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("flag s");
    }

    @Test
    void acceptsShellSyntaxInStringValuesBecauseTheCommandLineQuotesIt() {
        ExperimentSpec spec = VALID.flag("note", "$(rm -rf /); `x` 'y' \"z\" \ttab");
        assertThat(spec.flags().get("note")).isEqualTo("$(rm -rf /); `x` 'y' \"z\" \ttab");
    }

    @Test
    void refusesBigIntegersThatDoNotFitALong() {
        assertThat(VALID.flag("n", BigInteger.valueOf(Long.MAX_VALUE)).flags().get("n")).isEqualTo(Long.MAX_VALUE);
        assertThatThrownBy(() -> VALID.flag("n", BigInteger.ONE.shiftLeft(64)))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("flag n")
                .hasMessageContaining("64 bits");
    }

    @Test
    void normalisesIntegerShortAndByteToLong() {
        ExperimentSpec spec = VALID.flag("i", 4).flag("s", (short) 5).flag("b", (byte) 6);
        assertThat(spec.flags().get("i")).isInstanceOf(Long.class).isEqualTo(4L);
        assertThat(spec.flags().get("s")).isInstanceOf(Long.class).isEqualTo(5L);
        assertThat(spec.flags().get("b")).isInstanceOf(Long.class).isEqualTo(6L);
    }

    /** Regression: 0.1f used to widen to 0.10000000149011612 and reach the command line so. */
    @Test
    void normalisesFloatToTheDoubleOfItsDecimalForm() {
        ExperimentSpec spec = VALID.flag("lr", 0.1f).flag("w", 3f).flag("big", new BigDecimal("0.25"));
        assertThat(spec.flags().get("lr")).isInstanceOf(Double.class).isEqualTo(0.1);
        assertThat(spec.flags().get("w")).isEqualTo(3.0);
        assertThat(spec.flags().get("big")).isEqualTo(0.25);
        assertThat(CommandLine.build(spec)).contains("lr=0.1", "w=3.0");
    }

    @Test
    void keepsFlagsInTheOrderGivenAndReplacesInPlace() {
        Map<String, Object> given = new LinkedHashMap<>();
        given.put("z", 1);
        given.put("a", "x");
        given.put("m.k", true);
        ExperimentSpec spec = VALID.flags(given).flag("b", 2.5).flag("a", "y");
        assertThat(spec.flags().keySet()).containsExactly("z", "a", "m.k", "b");
        assertThat(spec.flags().get("a")).isEqualTo("y");
        assertThat(spec.withoutFlag("a").flags().keySet()).containsExactly("z", "m.k", "b");
    }

    @Test
    void flagsAreUnmodifiable() {
        Map<String, Object> flags = VALID.flag("a", 1).flags();
        assertThatThrownBy(() -> flags.put("b", 2)).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void refusesMoreThanAThousandFlags() {
        Map<String, Object> many = new LinkedHashMap<>();
        for (int i = 0; i < 1001; i++) {
            many.put("f" + i, i);
        }
        assertThatThrownBy(() -> VALID.flags(many))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("too many flags (1001)");
    }

    // ---- nodes, gpus, priority ----

    @ParameterizedTest
    @ValueSource(ints = {0, -1, Integer.MIN_VALUE, 4097})
    void refusesNodesOutOfRange(int nodes) {
        assertThatThrownBy(() -> VALID.nodes(nodes))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("nodes " + nodes + " is not allowed: use 1 to 4096");
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, 65, Integer.MAX_VALUE})
    void refusesGpusOutOfRange(int gpus) {
        assertThatThrownBy(() -> VALID.gpus(gpus))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("gpus " + gpus + " is not allowed: use 0 to 64");
    }

    @Test
    void acceptsTheBoundsOfNodesAndGpus() {
        assertThatCode(() -> VALID.nodes(1).nodes(4096).gpus(0).gpus(64)).doesNotThrowAnyException();
        assertThat(VALID.nodes(4).gpus(8).totalGpus()).isEqualTo(32);
    }

    @ParameterizedTest
    @ValueSource(ints = {Integer.MIN_VALUE, -1_000_001, 1_000_001, Integer.MAX_VALUE})
    void refusesPrioritiesThatCouldOverflowQueueArithmetic(int priority) {
        assertThatThrownBy(() -> VALID.priority(priority))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("priority " + priority);
        assertThat(VALID.priority(-1_000_000).priority()).isEqualTo(-1_000_000);
    }

    // ---- tool path, branch, resources, base command ----

    @ParameterizedTest
    @ValueSource(strings = {"; rm -rf /", "$(x)", "`x`", "a b", "../etc/passwd", "a/../b", "-x", "a|b", "a\nb"})
    void refusesBadToolPathsNamingTheValue(String value) {
        assertThatThrownBy(() -> VALID.toolPath(value))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("tool_path '" + value.replaceAll("\\p{Cntrl}", "?") + "'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"; rm -rf /", "$(x)", "-delete", "a..b", "a b", "a~1", "a^", "a:b", "a\\b"})
    void refusesBadBranchesNamingTheValue(String value) {
        assertThatThrownBy(() -> VALID.gitBranch(value))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("git_branch '" + value + "'");
    }

    @Test
    void acceptsTypicalToolPathsAndBranches() {
        ExperimentSpec spec = VALID.toolPath("recipes.experiment.arena.train").gitBranch("user/feature-1.2");
        assertThat(spec.toolPath()).isEqualTo("recipes.experiment.arena.train");
        assertThat(spec.gitBranch()).isEqualTo("user/feature-1.2");
        assertThat(VALID.toolPath("").toolPath()).isNull();
        assertThat(VALID.gitBranch("").gitBranch()).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"; rm -rf /", "$(x)", "us east", "-a", "a..b", "a\nb"})
    void refusesBadResourcesNamingFieldAndValue(String value) {
        String shown = "'" + value.replaceAll("\\p{Cntrl}", "?") + "'";
        assertThatThrownBy(() -> VALID.cloud(value)).hasMessageContaining("cloud " + shown);
        assertThatThrownBy(() -> VALID.region(value)).hasMessageContaining("region " + shown);
        assertThatThrownBy(() -> VALID.instanceType(value)).hasMessageContaining("instance_type " + shown);
        assertThatThrownBy(() -> VALID.accelerator(value))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("accelerator " + shown);
    }

    @Test
    void acceptsTypicalResources() {
        ExperimentSpec spec = VALID.cloud("aws").region("us-east-1").instanceType("p5.48xlarge")
                .accelerator("H100:8").spot(true);
        assertThat(spec.resources()).isEqualTo(new Resources("aws", "us-east-1", "p5.48xlarge", "H100:8", true));
    }

    @Test
    void refusesBadBaseCommands() {
        assertThatThrownBy(() -> VALID.baseCommand("  "))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("base_command must not be empty");
        assertThatThrownBy(() -> VALID.baseCommand("lt\nrm -rf /"))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("base_command 'lt?rm -rf /'");
        assertThatThrownBy(() -> VALID.baseCommand("lt 'x"))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("unterminated single quote");
        assertThatThrownBy(() -> VALID.baseCommand("x".repeat(1025)))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("at most 1024");
    }

    @Test
    void defaultsEverythingOptional() {
        ExperimentSpec spec = new ExperimentSpec("e", null, null, null, null, 1, 0, null, null, null, 0, null,
                null, null, null);
        assertThat(spec.flags()).isEmpty();
        assertThat(spec.baseCommand()).isEqualTo("lt");
        assertThat(spec.resources()).isEqualTo(Resources.ANY);
        assertThat(spec.desiredState()).isEqualTo(DesiredState.STOPPED);
        assertThat(spec.restartPolicy()).isEqualTo(RestartPolicy.NEVER);
        assertThat(spec.tags()).isEmpty();
    }

    @Test
    void refusesBadTagsAndDeduplicates() {
        assertThat(VALID.tags(List.of("a", "b", "a")).tags()).containsExactly("a", "b");
        assertThat(VALID.tags(List.of("two words")).tags()).containsExactly("two words"); // as names allow
        assertThatThrownBy(() -> VALID.tags(List.of("ok", "no/way")))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("tag 'no/way'");
    }

    @Test
    void refusesNulInDescriptions() {
        assertThatThrownBy(() -> VALID.description("a\0b"))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("description");
    }
}
