package dev.skydeck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.skydeck.schema.SelfReferencing;
import dev.skydeck.schema.TrainerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FlagSchemaTest {

    @TempDir
    Path tmp;

    private static Experiment experiment(String name, Map<String, ?> flags) {
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        return new Experiment(1, ExperimentSpec.named(name).flags(flags), false, 0, false, false, t, t, 1, 0,
                null, null, null, false);
    }

    private static Map<String, Object> flags(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    // ---- observed ----

    @Test
    void observedTypesFollowTheValuesUsed() {
        FlagSchema schema = FlagSchema.observed(List.of(
                experiment("a", flags("layers", 4, "lr", 0.1, "ppo", true, "name", "x")),
                experiment("b", flags("layers", 8, "lr", 0.2, "ppo", false, "name", "y"))));
        assertThat(schema.flags().keySet()).containsExactly("layers", "lr", "name", "ppo");
        assertThat(schema.get("layers").orElseThrow().type()).isEqualTo(FlagType.INT);
        assertThat(schema.get("lr").orElseThrow().type()).isEqualTo(FlagType.FLOAT);
        assertThat(schema.get("ppo").orElseThrow().type()).isEqualTo(FlagType.BOOL);
        assertThat(schema.get("name").orElseThrow().type()).isEqualTo(FlagType.STRING);
        assertThat(schema.get("layers").orElseThrow().observedValues()).containsExactly(4L, 8L);
        assertThat(schema.get("layers").orElseThrow().observedCount()).isEqualTo(2);
        assertThat(schema.get("layers").orElseThrow().declared()).isFalse();
    }

    @Test
    void observedIntMixedWithFloatIsFloatAndOtherMixesAreString() {
        FlagSchema schema = FlagSchema.observed(List.of(
                experiment("a", flags("lr", 1, "x", 1, "y", true)),
                experiment("b", flags("lr", 0.5, "x", "one", "y", 2.5))));
        assertThat(schema.get("lr").orElseThrow().type()).isEqualTo(FlagType.FLOAT);
        assertThat(schema.get("x").orElseThrow().type()).isEqualTo(FlagType.STRING);
        assertThat(schema.get("y").orElseThrow().type()).isEqualTo(FlagType.STRING);
    }

    @Test
    void observedValuesAreDistinctMostUsedFirstAndCapped() {
        List<Experiment> experiments = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            experiments.add(experiment("e" + i, flags("seed", (long) (i % 30 == 0 ? 7 : i), "same", "v")));
        }
        FlagSpec seed = FlagSchema.observed(experiments).get("seed").orElseThrow();
        assertThat(seed.observedValues()).hasSize(FlagSpec.MAX_OBSERVED_VALUES).doesNotHaveDuplicates();
        assertThat(seed.observedValues().get(0)).isEqualTo(7L);
        assertThat(seed.observedCount()).isEqualTo(100);
        assertThat(FlagSchema.observed(experiments).get("same").orElseThrow().observedValues()).containsExactly("v");
    }

    @Test
    void observedOfNothingIsEmpty() {
        assertThat(FlagSchema.observed(List.of()).isEmpty()).isTrue();
        assertThat(FlagSchema.EMPTY.get("x")).isEmpty();
    }

    // ---- fromClass ----

    @Test
    void fromClassMakesDottedKeysTypesChoicesAndDefaults() {
        FlagSchema schema = FlagSchema.fromClass(TrainerConfig.class);
        assertThat(schema.flags().keySet()).containsExactly(
                "runName", "separator",
                "trainer.batchSize", "trainer.learningRate",
                "trainer.losses.entropyCoef", "trainer.losses.ppo.clipCoef", "trainer.losses.ppo.enabled",
                "trainer.optimizer", "trainer.totalTimesteps", "wandb");
        assertThat(schema.get("trainer.losses.ppo.enabled").orElseThrow())
                .returns(FlagType.BOOL, FlagSpec::type).returns(true, FlagSpec::defaultValue)
                .returns(true, FlagSpec::declared);
        assertThat(schema.get("trainer.losses.ppo.clipCoef").orElseThrow().defaultValue()).isEqualTo(0.2);
        assertThat(schema.get("trainer.losses.entropyCoef").orElseThrow())
                .returns(FlagType.FLOAT, FlagSpec::type).returns(0.01, FlagSpec::defaultValue);
        assertThat(schema.get("trainer.batchSize").orElseThrow())
                .returns(FlagType.INT, FlagSpec::type).returns(524288L, FlagSpec::defaultValue);
        assertThat(schema.get("trainer.totalTimesteps").orElseThrow().defaultValue()).isEqualTo(10_000_000_000L);
        assertThat(schema.get("trainer.learningRate").orElseThrow().defaultValue()).isEqualTo(0.0003);
        assertThat(schema.get("trainer.optimizer").orElseThrow())
                .returns(FlagType.ENUM, FlagSpec::type)
                .returns(List.of("ADAM", "SGD", "MUON"), FlagSpec::choices)
                .returns("ADAM", FlagSpec::defaultValue);
        assertThat(schema.get("runName").orElseThrow().defaultValue()).isEqualTo("default");
        assertThat(schema.get("separator").orElseThrow())
                .returns(FlagType.STRING, FlagSpec::type).returns("/", FlagSpec::defaultValue);
        assertThat(schema.get("wandb").orElseThrow())
                .returns(FlagType.BOOL, FlagSpec::type).returns(null, FlagSpec::defaultValue);
    }

    record Model(int layers, Head head, Activation activation) {
        record Head(double dropout, String kind) {
        }
    }

    enum Activation { RELU, GELU }

    @Test
    void fromClassOfARecordWithoutNoArgConstructorHasNoDefaults() {
        FlagSchema schema = FlagSchema.fromClass(Model.class);
        assertThat(schema.flags().keySet()).containsExactly("activation", "head.dropout", "head.kind", "layers");
        assertThat(schema.flags().values()).allSatisfy(spec -> assertThat(spec.defaultValue()).isNull());
        assertThat(schema.get("activation").orElseThrow().choices()).containsExactly("RELU", "GELU");
        assertThat(schema.get("head.dropout").orElseThrow().type()).isEqualTo(FlagType.FLOAT);
    }

    @Test
    void fromClassStopsAtTypesThatContainThemselves() {
        FlagSchema schema = FlagSchema.fromClass(SelfReferencing.class);
        assertThat(schema.flags().keySet()).containsExactly("depth", "other.label");
        assertThat(schema.get("depth").orElseThrow().defaultValue()).isEqualTo(1L);
    }

    static class Base {
        int inherited = 3;
    }

    static class Derived extends Base {
        private String own = "o";

        Derived() {
            throw new IllegalStateException("no instances");
        }
    }

    @Test
    void fromClassIncludesInheritedFieldsAndSurvivesAThrowingConstructor() {
        FlagSchema schema = FlagSchema.fromClass(Derived.class);
        assertThat(schema.flags().keySet()).containsExactly("inherited", "own");
        assertThat(schema.get("own").orElseThrow().defaultValue()).isNull();
    }

    @Test
    void fromClassRefusesTypesThatHaveNoFields() {
        assertThatThrownBy(() -> FlagSchema.fromClass(String.class))
                .isInstanceOf(SkyDeckException.InvalidInput.class).hasMessageContaining("java.lang.String");
        assertThatThrownBy(() -> FlagSchema.fromClass(Activation.class))
                .isInstanceOf(SkyDeckException.InvalidInput.class);
        assertThatThrownBy(() -> FlagSchema.fromClass(Runnable.class))
                .isInstanceOf(SkyDeckException.InvalidInput.class);
    }

    // ---- merge ----

    @Test
    void declaredWinsOverObservedAndObservedValuesAreKept() {
        FlagSchema declared = FlagSchema.of(List.of(
                FlagSpec.declared("lr", FlagType.FLOAT).withDefault(0.001).withDescription("learning rate")));
        FlagSchema observed = FlagSchema.observed(List.of(experiment("a", flags("lr", 1, "extra", "x"))));

        for (FlagSchema merged : List.of(declared.merge(observed), observed.merge(declared))) {
            FlagSpec lr = merged.get("lr").orElseThrow();
            assertThat(lr.type()).isEqualTo(FlagType.FLOAT);
            assertThat(lr.defaultValue()).isEqualTo(0.001);
            assertThat(lr.description()).isEqualTo("learning rate");
            assertThat(lr.observedValues()).containsExactly(1L);
            assertThat(lr.observedCount()).isEqualTo(1);
            assertThat(lr.declared()).isTrue();
            assertThat(merged.get("extra")).isPresent();
        }
    }

    @Test
    void betweenTwoDeclaredSourcesTheArgumentWins() {
        FlagSchema a = FlagSchema.of(List.of(FlagSpec.declared("x", FlagType.INT).withDefault(1)));
        FlagSchema b = FlagSchema.of(List.of(FlagSpec.declared("x", FlagType.FLOAT).withDefault(2.0)));
        assertThat(a.merge(b).get("x").orElseThrow().defaultValue()).isEqualTo(2.0);
        assertThat(b.merge(a).get("x").orElseThrow().defaultValue()).isEqualTo(1L);
    }

    @Test
    void twoObservedSchemasWidenTypesAndUnionValues() {
        FlagSchema a = FlagSchema.observed(List.of(experiment("a", flags("x", 1))));
        FlagSchema b = FlagSchema.observed(List.of(experiment("b", flags("x", 0.5))));
        FlagSpec x = a.merge(b).get("x").orElseThrow();
        assertThat(x.type()).isEqualTo(FlagType.FLOAT);
        assertThat(x.observedValues()).containsExactly(1L, 0.5);
        assertThat(x.observedCount()).isEqualTo(2);
    }

    // ---- validate ----

    @Test
    void validateNamesTheFlagOfEachProblem() {
        FlagSchema schema = FlagSchema.fromClass(TrainerConfig.class)
                .merge(FlagSchema.of(List.of(FlagSpec.declared("data.path", FlagType.STRING).withRequired(true)
                        .withDescription("where the data is"))));
        List<FlagSchema.Problem> problems = schema.validate(flags(
                "trainer.batchSize", "big",
                "trainer.learningRate", 1L,
                "trainer.optimizer", "adamw",
                "trainer.losses.ppo.enabled", "yes",
                "trainer.batchSzie", 4L,
                "runName", 5L));
        assertThat(problems).extracting(FlagSchema.Problem::message).containsExactly(
                "flag trainer.batchSize expects int, not string 'big'",
                "flag trainer.optimizer = 'adamw' is not one of ADAM, SGD, MUON",
                "flag trainer.losses.ppo.enabled expects bool, not string 'yes'",
                "flag trainer.batchSzie is not in the schema (did you mean trainer.batchSize?)",
                "flag data.path is required (where the data is)");
        assertThat(problems).extracting(FlagSchema.Problem::key).containsExactly(
                "trainer.batchSize", "trainer.optimizer", "trainer.losses.ppo.enabled", "trainer.batchSzie",
                "data.path");
    }

    @Test
    void anObservedOnlySchemaDoesNotCallNewFlagsUnknown() {
        FlagSchema observed = FlagSchema.observed(List.of(experiment("a", flags("x", 1))));
        assertThat(observed.validate(flags("y", 1L))).isEmpty();
        assertThat(observed.validate(flags("x", "one"))).isEmpty(); // observed types only inform
    }

    @Test
    void validFlagsHaveNoProblems() {
        FlagSchema schema = FlagSchema.fromClass(TrainerConfig.class);
        assertThat(schema.validate(flags("trainer.batchSize", 4L, "trainer.learningRate", 0.1,
                "trainer.optimizer", "SGD", "wandb", false))).isEmpty();
    }

    @Test
    void specsRefuseDefaultsOfAnotherTypeAndEnumsWithoutChoices() {
        assertThatThrownBy(() -> FlagSpec.declared("n", FlagType.INT).withDefault("four"))
                .isInstanceOf(SkyDeckException.InvalidInput.class).hasMessageContaining("flag n has a default");
        assertThatThrownBy(() -> FlagSpec.declared("e", FlagType.ENUM))
                .isInstanceOf(SkyDeckException.InvalidInput.class).hasMessageContaining("flag e is an enum");
        assertThatThrownBy(() -> FlagSpec.declared("e", FlagType.BOOL).withChoices(List.of("a")).withDefault("b"))
                .isInstanceOf(SkyDeckException.InvalidInput.class).hasMessageContaining("among a");
        assertThat(FlagSpec.declared("f", FlagType.FLOAT).withDefault(3).defaultValue()).isEqualTo(3.0);
    }

    @Test
    void schemaFlagsAreSortedAndUnmodifiable() {
        FlagSchema schema = FlagSchema.of(List.of(FlagSpec.declared("b", FlagType.INT),
                FlagSpec.declared("a", FlagType.INT)));
        assertThat(schema.flags().keySet()).containsExactly("a", "b");
        assertThatThrownBy(() -> schema.flags().remove("a")).isInstanceOf(UnsupportedOperationException.class);
    }

    // ---- fromCommand ----

    private List<String> script(String body) throws Exception {
        Path file = Files.createTempFile(tmp, "schema", ".sh");
        Files.writeString(file, body);
        return List.of("/bin/sh", file.toString());
    }

    @Test
    void fromCommandReadsTheSchemaItPrints() throws Exception {
        List<String> command = script("""
                cat <<'JSON'
                {"schema": {
                  "trainer.lr": {"type": "float", "default": 0.001, "description": "learning rate"},
                  "trainer.layers": {"type": "integer", "default": 4, "required": true},
                  "ppo": {"type": "boolean", "default": false},
                  "name": {"type": "str"},
                  "opt": {"type": "enum", "choices": ["adam", "sgd"], "default": "adam"},
                  "act": {"choices": ["relu", "gelu"]},
                  "wd": {"type": "number", "default": 0},
                  "count": {"type": "int"},
                  "text": {"type": "string"},
                  "flag": {"type": "bool"},
                  "tags": {"type": "list", "default": ["a"]}
                }}
                JSON
                """);
        FlagSchema schema = FlagSchema.fromCommand(command, "recipes.arena.train", Duration.ofSeconds(20));
        assertThat(schema.flags().keySet()).containsExactly("act", "count", "flag", "name", "opt", "ppo", "text",
                "trainer.layers", "trainer.lr", "wd");
        assertThat(schema.get("trainer.lr").orElseThrow())
                .returns(FlagType.FLOAT, FlagSpec::type).returns(0.001, FlagSpec::defaultValue)
                .returns("learning rate", FlagSpec::description);
        assertThat(schema.get("trainer.layers").orElseThrow())
                .returns(FlagType.INT, FlagSpec::type).returns(true, FlagSpec::required);
        assertThat(schema.get("ppo").orElseThrow().type()).isEqualTo(FlagType.BOOL);
        assertThat(schema.get("name").orElseThrow().type()).isEqualTo(FlagType.STRING);
        assertThat(schema.get("opt").orElseThrow().choices()).containsExactly("adam", "sgd");
        assertThat(schema.get("act").orElseThrow().type()).isEqualTo(FlagType.ENUM);
        assertThat(schema.get("wd").orElseThrow().defaultValue()).isEqualTo(0.0);
    }

    @Test
    void fromCommandPassesTheToolPathAsOneArgumentWithoutAShell() throws Exception {
        List<String> command = new ArrayList<>(script("""
                printf '{"schema": {"args": {"type": "string", "description": "%s|%s|%s|%s"}}}' "$#" "$1" "$2" "$3"
                """));
        command.add("a b");
        command.add("$(touch pwned)");
        FlagSchema schema = FlagSchema.fromCommand(command, "recipes.arena.train", Duration.ofSeconds(20));
        assertThat(schema.get("args").orElseThrow().description())
                .isEqualTo("3|a b|$(touch pwned)|recipes.arena.train");
        assertThat(tmp.resolve("pwned")).doesNotExist();
        assertThat(Path.of("pwned")).doesNotExist();
    }

    @Test
    void fromCommandRefusesAToolPathThatIsNotOne() throws Exception {
        List<String> command = script("echo '{\"schema\": {}}'");
        assertThatThrownBy(() -> FlagSchema.fromCommand(command, "$(touch pwned)", Duration.ofSeconds(20)))
                .isInstanceOf(SkyDeckException.InvalidInput.class).hasMessageContaining("tool_path");
        assertThatThrownBy(() -> FlagSchema.fromCommand(command, "--help", Duration.ofSeconds(20)))
                .isInstanceOf(SkyDeckException.InvalidInput.class).hasMessageContaining("tool_path");
        assertThat(FlagSchema.fromCommand(command, null, Duration.ofSeconds(20)).isEmpty()).isTrue();
    }

    @Test
    void fromCommandReportsANonZeroExitWithTheEndOfItsErrorOutput() throws Exception {
        List<String> command = script("""
                i=0; while [ $i -lt 200 ]; do echo "noise line $i" >&2; i=$((i+1)); done
                echo "ModuleNotFoundError: No module named 'recipes'" >&2
                exit 3
                """);
        assertThatThrownBy(() -> FlagSchema.fromCommand(command, "recipes.x", Duration.ofSeconds(20)))
                .isInstanceOf(SkyDeckException.class)
                .hasMessageContaining("flag schema command `/bin/sh ")
                .hasMessageContaining("recipes.x` exited with status 3")
                .hasMessageContaining("No module named 'recipes'")
                .hasMessageContaining(": …")
                .hasMessageNotContaining("noise line 0\n")
                .satisfies(e -> assertThat(((SkyDeckException) e).retryable()).isFalse())
                .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(1200));
    }

    @Test
    void fromCommandReportsBadJsonWithItsPosition() throws Exception {
        List<String> command = script("echo '{\"schema\": {\"x\": {\"type\": \"int\",}}}'");
        assertThatThrownBy(() -> FlagSchema.fromCommand(command, null, Duration.ofSeconds(20)))
                .isInstanceOf(SkyDeckException.class)
                .hasMessageContaining("printed a bad schema")
                .hasMessageContaining("at line 1, column 33 (offset 32)");
    }

    @Test
    void fromCommandReportsAWrongShape() throws Exception {
        assertThatThrownBy(() -> FlagSchema.fromCommand(script("echo '[1]'"), null, Duration.ofSeconds(20)))
                .hasMessageContaining("expected an object {\"schema\": {…}}");
        assertThatThrownBy(() -> FlagSchema.fromCommand(script("echo '{\"schema\": {\"e\": {\"type\": \"enum\"}}}'"),
                null, Duration.ofSeconds(20)))
                .hasMessageContaining("flag e: an enum needs a non-empty list of choices");
        assertThatThrownBy(() -> FlagSchema.fromCommand(script("echo '{\"schema\": {\"1x\": {}}}'"),
                null, Duration.ofSeconds(20)))
                .hasMessageContaining("flag key '1x'");
    }

    @Test
    void fromCommandSaysWhenTheProgramCannotStart() {
        assertThatThrownBy(() -> FlagSchema.fromCommand(List.of(tmp.resolve("no-such-tool").toString()), null,
                Duration.ofSeconds(20)))
                .isInstanceOf(SkyDeckException.class)
                .hasMessageContaining("no-such-tool` cannot be started")
                .hasMessageContaining("SKYDECK_FLAG_SCHEMA_COMMAND");
    }

    @Test
    void fromCommandKillsTheProcessTreeOnTimeout() throws Exception {
        Path pidFile = tmp.resolve("child.pid");
        List<String> command = script("sleep 60 & echo $! > '" + pidFile + "'; echo started >&2; wait\n");
        assertThatThrownBy(() -> FlagSchema.fromCommand(command, null, Duration.ofMillis(1500)))
                .isInstanceOf(SkyDeckException.class)
                .hasMessageContaining("did not finish within 1500 ms and was killed")
                .satisfies(e -> assertThat(((SkyDeckException) e).retryable()).isTrue());
        long child = Long.parseLong(Files.readString(pidFile).strip());
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> gone(child));
    }

    /** Dead or a zombie (a container's PID 1 may never reap it). */
    private static boolean gone(long pid) {
        Path stat = Path.of("/proc/" + pid + "/stat");
        try {
            String s = Files.readString(stat);
            return s.substring(s.lastIndexOf(')') + 2).startsWith("Z");
        } catch (Exception e) {
            return true;
        }
    }
}
