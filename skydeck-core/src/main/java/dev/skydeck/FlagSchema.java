package dev.skydeck;

import dev.skydeck.internal.schema.ClassFlags;
import dev.skydeck.internal.schema.ObservedFlags;
import dev.skydeck.internal.schema.SchemaCommand;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What SkyDeck knows about the flags of a tool: their types, defaults, choices and the values
 * already used — for typeahead, for typed inputs in the dashboard and for warnings (SPEC §7).
 * An immutable value; combine sources with {@link #merge}.
 *
 * <pre>{@code
 * FlagSchema schema = FlagSchema.fromClass(TrainerConfig.class)
 *         .merge(FlagSchema.observed(deck.experiments()));
 * schema.validate(spec.flags()).forEach(p -> log.warn(p.message()));
 * }</pre>
 *
 * @param flags every known flag by key, sorted by key
 */
public record FlagSchema(Map<String, FlagSpec> flags) {
    /** A schema that knows nothing. */
    public static final FlagSchema EMPTY = new FlagSchema(Map.of());

    /**
     * One thing wrong with an experiment's flags.
     *
     * @param key     the flag concerned
     * @param message what is wrong, naming the flag
     */
    public record Problem(String key, String message) {
        /** Validates the fields. */
        public Problem {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(message, "message");
        }
    }

    /** Copies the flags into an unmodifiable map sorted by key; each entry's key must be its spec's. */
    public FlagSchema {
        TreeMap<String, FlagSpec> sorted = new TreeMap<>();
        for (Map.Entry<String, FlagSpec> e : flags.entrySet()) {
            if (!e.getKey().equals(e.getValue().key())) {
                throw new IllegalArgumentException("flag " + e.getKey() + " maps to the spec of " + e.getValue().key());
            }
            sorted.put(e.getKey(), e.getValue());
        }
        flags = Collections.unmodifiableSortedMap(sorted);
    }

    /** A schema of these specs (a later spec for the same key replaces an earlier one). */
    public static FlagSchema of(Collection<FlagSpec> specs) {
        TreeMap<String, FlagSpec> map = new TreeMap<>();
        for (FlagSpec spec : specs) {
            map.put(spec.key(), spec);
        }
        return new FlagSchema(map);
    }

    /**
     * The flags experiments already use: for each key, its type (Long → INT, Double → FLOAT,
     * Boolean → BOOL, String → STRING; INT mixed with FLOAT is FLOAT, any other mix STRING), its
     * distinct values (most used first, at most {@value FlagSpec#MAX_OBSERVED_VALUES}) and how many
     * experiments set it.
     */
    public static FlagSchema observed(Collection<Experiment> experiments) {
        return ObservedFlags.of(experiments.stream().map(Experiment::flags).toList());
    }

    /**
     * The flags of a Java record or plain class, such as a trainer's configuration: each
     * non-static, non-transient field (or record component) of a scalar type is a flag; fields of
     * other records or classes become dotted keys ({@code trainer.losses.ppo.enabled}); enums
     * become ENUM with their constant names as choices; booleans BOOL, whole numbers INT, decimal
     * numbers FLOAT, strings and chars STRING. Defaults come from an instance made with the
     * class's no-arg constructor when it has one (a record without one has no defaults).
     * Collections, maps, arrays and {@code java.*} types other than scalars are skipped; nesting
     * stops at a depth of 8 and at a type that contains itself.
     *
     * @throws SkyDeckException.InvalidInput if {@code type} is an interface, an enum, a primitive or an array
     */
    public static FlagSchema fromClass(Class<?> type) {
        return ClassFlags.of(type);
    }

    /**
     * The flags an operator-configured command describes ({@code SKYDECK_FLAG_SCHEMA_COMMAND}, split
     * with {@link CommandLine#split}): runs {@code command} with {@code toolPath} appended as one
     * argument, never through a shell, and reads the JSON it prints:
     * <pre>{@code {"schema": {"<flag>": {"type": "int", "default": 4, "required": false,
     *             "description": "…", "choices": ["a", "b"]}}}}</pre>
     * Types: {@code int}/{@code integer}, {@code float}/{@code number}, {@code bool}/{@code boolean},
     * {@code str}/{@code string}, {@code enum}. A flag of another type (a list, say) is skipped, as
     * is a default that is not a scalar; a flag with choices and no type is an enum.
     *
     * @param command  the program and its arguments
     * @param toolPath the tool whose flags to describe, or {@code null} to pass none
     * @param timeout  how long the command may run; it is killed with its children after that
     * @throws SkyDeckException naming the command when it cannot start, times out (retryable),
     *                          exits non-zero (with an excerpt of its error output) or prints bad JSON
     */
    public static FlagSchema fromCommand(List<String> command, String toolPath, Duration timeout) {
        return SchemaCommand.run(command, toolPath, timeout);
    }

    /** The spec of one flag. */
    public Optional<FlagSpec> get(String key) {
        return Optional.ofNullable(flags.get(key));
    }

    /** Whether this schema knows nothing. */
    public boolean isEmpty() {
        return flags.isEmpty();
    }

    /**
     * This schema combined with another. For a flag in both, a declared spec's type, default,
     * required, description and choices win over an observed one's; between two declared (or two
     * observed) specs, {@code other}'s win, except that two observed types widen (INT with FLOAT is
     * FLOAT, else STRING). Observed values are unioned (capped) and counts added.
     */
    public FlagSchema merge(FlagSchema other) {
        TreeMap<String, FlagSpec> out = new TreeMap<>(flags);
        for (FlagSpec b : other.flags.values()) {
            FlagSpec a = out.get(b.key());
            out.put(b.key(), a == null ? b : merge(a, b));
        }
        return new FlagSchema(out);
    }

    private static FlagSpec merge(FlagSpec a, FlagSpec b) {
        List<Object> values = FlagSpec.union(a.observedValues(), b.observedValues());
        long count = a.observedCount() + b.observedCount();
        if (!a.declared() && !b.declared()) {
            return new FlagSpec(b.key(), FlagType.widen(a.type(), b.type()), null, false, null, List.of(), values,
                    count, false);
        }
        FlagSpec winner = a.declared() && !b.declared() ? a : b;
        return new FlagSpec(winner.key(), winner.type(), winner.defaultValue(), winner.required(),
                winner.description(), winner.choices(), values, count, true);
    }

    /**
     * What is wrong with an experiment's flags according to this schema, for warnings: a value of
     * the wrong type or an enum value not among the choices (checked against declared flags only:
     * observed types are hints), a required flag missing, and — when
     * this schema has declared flags — a flag it does not know (with the closest known key). Empty
     * when all is well.
     */
    public List<Problem> validate(Map<String, Object> values) {
        List<Problem> problems = new ArrayList<>();
        boolean anyDeclared = flags.values().stream().anyMatch(FlagSpec::declared);
        for (Map.Entry<String, Object> e : values.entrySet()) {
            FlagSpec spec = flags.get(e.getKey());
            if (spec == null) {
                if (anyDeclared) {
                    problems.add(new Problem(e.getKey(), "flag " + e.getKey() + " is not in the schema"
                            + closest(e.getKey()).map(k -> " (did you mean " + k + "?)").orElse("")));
                }
                continue;
            }
            if (spec.declared()) { // what experiments happened to use is a hint, not a rule
                spec.problem(e.getValue()).ifPresent(m -> problems.add(new Problem(e.getKey(), m)));
            }
        }
        for (FlagSpec spec : flags.values()) {
            if (spec.required() && !values.containsKey(spec.key())) {
                problems.add(new Problem(spec.key(), "flag " + spec.key() + " is required"
                        + (spec.description() == null ? "" : " (" + spec.description() + ")")));
            }
        }
        return List.copyOf(problems);
    }

    /** The known key nearest to {@code key} by edit distance, if near enough to be a typo. */
    private Optional<String> closest(String key) {
        String best = null;
        int bestDistance = Math.max(2, key.length() / 4) + 1;
        for (String known : flags.keySet()) {
            if (Math.abs(known.length() - key.length()) >= bestDistance) {
                continue;
            }
            int d = distance(key, known);
            if (d < bestDistance) {
                best = known;
                bestDistance = d;
            }
        }
        return Optional.ofNullable(best);
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
