package dev.skydeck;

import java.util.Locale;
import java.util.Optional;

/** The type of a flag's value, as a flag schema declares or observes it (SPEC §7). */
public enum FlagType {
    /** Any text; on a command line every scalar is acceptable where a string is expected. */
    STRING,
    /** A whole number ({@link Long}). */
    INT,
    /** A decimal number ({@link Double}); whole numbers are acceptable too. */
    FLOAT,
    /** {@code true} or {@code false}. */
    BOOL,
    /** One of a fixed list of strings ({@link FlagSpec#choices()}). */
    ENUM;

    /** The lower-case name used on the wire and by schema commands ({@code int}, {@code float}, …). */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The type a schema command names: {@code int}/{@code integer}, {@code float}/{@code number},
     * {@code bool}/{@code boolean}, {@code str}/{@code string}, {@code enum} (case-insensitive).
     */
    public static Optional<FlagType> parse(String name) {
        if (name == null) {
            return Optional.empty();
        }
        return switch (name.strip().toLowerCase(Locale.ROOT)) {
            case "int", "integer", "long" -> Optional.of(INT);
            case "float", "number", "double" -> Optional.of(FLOAT);
            case "bool", "boolean" -> Optional.of(BOOL);
            case "str", "string" -> Optional.of(STRING);
            case "enum" -> Optional.of(ENUM);
            default -> Optional.empty();
        };
    }

    /** The type of a normalised flag value: Long → INT, Double → FLOAT, Boolean → BOOL, else STRING. */
    public static FlagType of(Object value) {
        if (value instanceof Long) {
            return INT;
        }
        if (value instanceof Double) {
            return FLOAT;
        }
        if (value instanceof Boolean) {
            return BOOL;
        }
        return STRING;
    }

    /** The narrowest type holding values of both: equal types stay, INT with FLOAT is FLOAT, else STRING. */
    public static FlagType widen(FlagType a, FlagType b) {
        if (a == b) {
            return a;
        }
        if ((a == INT && b == FLOAT) || (a == FLOAT && b == INT)) {
            return FLOAT;
        }
        return STRING;
    }
}
