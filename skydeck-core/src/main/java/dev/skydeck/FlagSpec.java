package dev.skydeck;

import dev.skydeck.internal.Validate;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * What is known about one flag: its type, default, whether it is required, a description,
 * the choices of an enum, and the values experiments have used. Immutable.
 *
 * @param key            the dotted flag key, such as {@code trainer.losses.ppo.enabled}
 * @param type           the value's type
 * @param defaultValue   the default (a String, Long, Double or Boolean), or {@code null} for none
 * @param required       whether an experiment must set it
 * @param description    free text, or {@code null}
 * @param choices        the allowed values of an {@link FlagType#ENUM}, else empty
 * @param observedValues distinct values experiments have used, most used first, at most
 *                       {@value #MAX_OBSERVED_VALUES}
 * @param observedCount  how many experiments set this flag
 * @param declared       whether a declared source (a class, a schema command) describes it, as
 *                       opposed to it only being seen in experiments
 */
public record FlagSpec(String key, FlagType type, Object defaultValue, boolean required, String description,
                       List<String> choices, List<Object> observedValues, long observedCount, boolean declared) {
    /** Observed values kept per flag. */
    public static final int MAX_OBSERVED_VALUES = 20;

    /** Validates and normalises every field. */
    public FlagSpec {
        key = Validate.flagKey(key);
        Objects.requireNonNull(type, "type");
        defaultValue = defaultValue == null ? null : Validate.flagValue(key, defaultValue);
        if (type == FlagType.FLOAT && defaultValue instanceof Long l) {
            defaultValue = l.doubleValue();
        }
        description = description == null || description.isBlank() ? null
                : Validate.text("description of flag " + key, description.strip(), 4096);
        choices = choices == null ? List.of() : List.copyOf(new LinkedHashSet<>(choices));
        if (type == FlagType.ENUM && choices.isEmpty()) {
            throw Validate.invalid("flag " + key + " is an enum without choices");
        }
        List<Object> values = new ArrayList<>();
        if (observedValues != null) {
            for (Object v : new LinkedHashSet<>(observedValues)) {
                if (values.size() == MAX_OBSERVED_VALUES) {
                    break;
                }
                values.add(Validate.flagValue(key, v));
            }
        }
        observedValues = List.copyOf(values);
        if (defaultValue != null && !fits(type, choices, defaultValue)) {
            throw Validate.invalid("flag " + key + " has a default (" + show(defaultValue) + ") that is not a "
                    + type.wireName() + (type == FlagType.ENUM ? " among " + String.join(", ", choices) : ""));
        }
        if (observedCount < 0) {
            throw Validate.invalid("flag " + key + " has a negative observed count");
        }
    }

    /** A declared flag of a type, with no default, not required, without description. */
    public static FlagSpec declared(String key, FlagType type) {
        return new FlagSpec(key, type, null, false, null, List.of(), List.of(), 0, true);
    }

    /** This spec with another default. */
    public FlagSpec withDefault(Object value) {
        return new FlagSpec(key, type, value, required, description, choices, observedValues, observedCount, declared);
    }

    /** This spec required or not. */
    public FlagSpec withRequired(boolean value) {
        return new FlagSpec(key, type, defaultValue, value, description, choices, observedValues, observedCount,
                declared);
    }

    /** This spec with another description. */
    public FlagSpec withDescription(String value) {
        return new FlagSpec(key, type, defaultValue, required, value, choices, observedValues, observedCount, declared);
    }

    /** This spec as an enum of these choices. */
    public FlagSpec withChoices(List<String> value) {
        return new FlagSpec(key, FlagType.ENUM, defaultValue, required, description, value, observedValues,
                observedCount, declared);
    }

    /**
     * What is wrong with {@code value} for this flag, or empty when it fits: an INT needs a whole
     * number, a FLOAT a number, a BOOL a boolean, an ENUM one of its choices; a STRING takes any
     * scalar (a command line carries them all as text).
     */
    public Optional<String> problem(Object value) {
        if (fits(type, choices, value)) {
            return Optional.empty();
        }
        if (type == FlagType.ENUM) {
            return Optional.of("flag " + key + " = " + show(value) + " is not one of " + String.join(", ", choices));
        }
        return Optional.of("flag " + key + " expects " + type.wireName() + ", not "
                + FlagType.of(value).wireName() + " " + show(value));
    }

    private static boolean fits(FlagType type, List<String> choices, Object value) {
        return switch (type) {
            case STRING -> true;
            case INT -> value instanceof Long || value instanceof Integer;
            case FLOAT -> value instanceof Number;
            case BOOL -> value instanceof Boolean;
            case ENUM -> value != null && choices.contains(value.toString());
        };
    }

    private static String show(Object value) {
        String s = String.valueOf(value);
        s = s.length() > 60 ? s.substring(0, 60) + "…" : s;
        return value instanceof String ? "'" + s + "'" : s;
    }

    /** Distinct values of both, this spec's first, capped. */
    static List<Object> union(List<Object> a, List<Object> b) {
        Set<Object> all = new LinkedHashSet<>(a);
        all.addAll(b);
        return all.stream().limit(MAX_OBSERVED_VALUES).toList();
    }
}
