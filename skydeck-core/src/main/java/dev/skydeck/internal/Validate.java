package dev.skydeck.internal;

import dev.skydeck.SkyDeckException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** Validation of every user-supplied value that reaches a store, a command line or a path. */
public final class Validate {
    /**
     * Ids SkyDeck makes and uses as directory names (job ids, launch ids): ASCII letters, digits,
     * '.', '_' and '-'. Experiment names are wider: see {@link #name}.
     */
    public static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    /** What {@link #name} allows, for messages. */
    public static final String NAME_RULE = "use 1 to 128 characters without '/', '\\', control characters or"
            + " spaces at either end, not starting with '-' and not '.' or '..'";
    /** Flag keys: dotted identifiers. */
    public static final Pattern FLAG_KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_.-]{0,199}");
    /** Tool paths such as {@code recipes.experiment.arena.train}. */
    public static final Pattern TOOL_PATH = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_./:-]{0,255}");
    /** Git branches and refs (a conservative subset of git-check-ref-format). */
    public static final Pattern GIT_REF = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_./+-]{0,199}");
    /** Cloud, region, instance type, accelerator model. */
    public static final Pattern RESOURCE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.:/+-]{0,99}");

    private static final int MAX_FLAG_STRING = 4096;
    private static final int MAX_FLAGS = 1000;

    private Validate() {
    }

    /**
     * A user name (of a token's owner, {@code SKYDECK_USER}): 1 to 64 letters, digits and
     * {@code . _ - @}, starting with a letter or digit; returned as given.
     */
    public static String userName(String value) {
        if (value == null || !value.matches("[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")) {
            throw invalid("user name " + (value == null ? "(none)" : "'" + value + "'") + " is not allowed: use 1 to 64"
                    + " letters, digits and . _ - @, starting with a letter or digit");
        }
        return value;
    }

    /**
     * Refuses a bad experiment name (or tag) with a message that names it. A name is the key jobs,
     * checkpoint folders and the {@code run=} argument use, so it allows what the original SkyDeck's
     * names hold (spaces, parentheses, {@code NAME (copy)}): no shell runs anywhere and every value
     * is quoted where it reaches a command line or a SkyPilot {@code run:} script. Refused are only
     * what is unsafe as one path segment of an S3 key or a local directory ({@code /}, {@code \},
     * {@code .}, {@code ..}), what cannot be shown or typed on one line (control, format and line
     * separator characters, spaces at either end), and a leading {@code -} (it reads as an option).
     */
    public static String name(String what, String value) {
        if (value == null || !isName(value)) {
            throw invalid(what + " " + show(value) + " is not allowed: " + NAME_RULE);
        }
        return value;
    }

    /** Whether {@code value} is an allowed experiment name (see {@link #name}). */
    public static boolean isName(String value) {
        int n = value.length();
        if (n == 0 || n > 128 || value.equals(".") || value.equals("..") || value.charAt(0) == '-'
                || isBlankAt(value, 0) || isBlankAt(value, n - 1)) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            char c = value.charAt(i);
            if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_'
                    || c == '-' || c == ' ') {
                continue; // the common case, without a Character lookup
            }
            if (c == '/' || c == '\\') {
                return false;
            }
            int type = Character.getType(c);
            if (type == Character.CONTROL || type == Character.FORMAT || type == Character.LINE_SEPARATOR
                    || type == Character.PARAGRAPH_SEPARATOR || type == Character.UNASSIGNED
                    || type == Character.PRIVATE_USE) {
                return false;
            }
            if (Character.isHighSurrogate(c)) {
                if (i + 1 >= n || !Character.isLowSurrogate(value.charAt(i + 1))) {
                    return false;
                }
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Null, or what an experiment name may start with (a group's default prefix for new names):
     * the name rule, except that it may end with a space.
     */
    public static String namePrefix(String value) {
        if (value == null || value.isEmpty()) {
            return null;
        }
        if (value.length() > 127 || !isName(value + "x")) {
            throw invalid("name_prefix " + show(value) + " is not allowed: it must be the start of an experiment"
                    + " name (" + NAME_RULE + ")");
        }
        return value;
    }

    private static boolean isBlankAt(String value, int i) {
        char c = value.charAt(i);
        return Character.isWhitespace(c) || Character.isSpaceChar(c);
    }

    /** Null or a value matching the pattern. */
    public static String optional(String what, String value, Pattern pattern, String allowed) {
        if (value == null || value.isEmpty()) {
            return null;
        }
        if (!pattern.matcher(value).matches() || value.contains("..")) {
            throw invalid(what + " " + show(value) + " is not allowed: " + allowed);
        }
        return value;
    }

    /** A base command: non-blank, one line, no NUL. */
    public static String command(String value) {
        if (value == null || value.isBlank()) {
            throw invalid("base_command must not be empty");
        }
        if (value.length() > 1024 || hasControl(value)) {
            throw invalid("base_command " + show(value)
                    + " is not allowed: one line of at most 1024 characters without control characters");
        }
        return value.strip();
    }

    /** Free text (descriptions): at most {@code max} characters, no NUL. */
    public static String text(String what, String value, int max) {
        if (value == null) {
            return null;
        }
        if (value.length() > max || value.indexOf('\0') >= 0) {
            throw invalid(what + " is not allowed: at most " + max + " characters without NUL");
        }
        return value;
    }

    /** A whole number within bounds. */
    public static int range(String what, int value, int min, int max) {
        if (value < min || value > max) {
            throw invalid(what + " " + value + " is not allowed: use " + min + " to " + max);
        }
        return value;
    }

    /**
     * Validates and normalises flags: keys are dotted identifiers, values scalars (Integer and
     * Short become Long, Float becomes Double). The result keeps the given order and is
     * unmodifiable.
     */
    public static Map<String, Object> flags(Map<String, ?> flags) {
        if (flags == null) {
            return Map.of();
        }
        if (flags.size() > MAX_FLAGS) {
            throw invalid("too many flags (" + flags.size() + "): at most " + MAX_FLAGS);
        }
        Map<String, Object> out = new LinkedHashMap<>(Math.max(4, flags.size() * 2));
        for (Map.Entry<String, ?> e : flags.entrySet()) {
            String key = flagKey(e.getKey());
            out.put(key, flagValue(key, e.getValue()));
        }
        return Collections.unmodifiableMap(out);
    }

    // NAME and FLAG_KEY as plain loops: they run for every row a store reads, where regexes showed in profiles

    private static boolean isFlagKey(String v) {
        if (v.isEmpty() || v.length() > 200) {
            return false;
        }
        char first = v.charAt(0);
        return (first >= 'A' && first <= 'Z' || first >= 'a' && first <= 'z' || first == '_') && restIsWordChars(v);
    }

    /** Whether every character after the first is a letter, digit, '.', '_' or '-'. */
    private static boolean restIsWordChars(String v) {
        for (int i = 1; i < v.length(); i++) {
            char c = v.charAt(i);
            if (!isAsciiLetterOrDigit(c) && c != '.' && c != '_' && c != '-') {
                return false;
            }
        }
        return true;
    }

    private static boolean isAsciiLetterOrDigit(char c) {
        return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9';
    }

    /** Refuses a bad flag key. */
    public static String flagKey(String key) {
        if (key == null || !isFlagKey(key) || key.contains("..") || key.endsWith(".")) {
            throw invalid("flag key " + show(key)
                    + " is not allowed: use dotted identifiers such as trainer.losses.ppo.enabled");
        }
        return key;
    }

    /** Normalises one flag value, refusing nulls, lists, objects and non-finite numbers. */
    public static Object flagValue(String key, Object value) {
        if (value instanceof String s) {
            if (s.length() > MAX_FLAG_STRING || hasControl(s)) {
                throw invalid("flag " + key + " has a value that is not allowed: strings are one line of at most "
                        + MAX_FLAG_STRING + " characters without control characters");
            }
            return s;
        }
        if (value instanceof Boolean || value instanceof Long) {
            return value;
        }
        if (value instanceof Integer || value instanceof Short || value instanceof Byte) {
            return ((Number) value).longValue();
        }
        if (value instanceof Double || value instanceof Float) {
            // A float widens to the double of its decimal form: 0.1f means 0.1, not 0.10000000149011612.
            double d = value instanceof Float f && Float.isFinite(f)
                    ? Double.parseDouble(Float.toString(f)) : ((Number) value).doubleValue();
            if (!Double.isFinite(d)) {
                throw invalid("flag " + key + " = " + value + " is not allowed: numbers must be finite");
            }
            return d;
        }
        if (value instanceof java.math.BigInteger b) {
            if (b.bitLength() >= 64) {
                throw invalid("flag " + key + " = " + b + " is out of range: whole numbers must fit in 64 bits"
                        + " (-9223372036854775808 to 9223372036854775807); use a decimal or a string instead");
            }
            return b.longValue();
        }
        if (value instanceof java.math.BigDecimal b) {
            return flagValue(key, b.doubleValue());
        }
        throw invalid("flag " + key + " has a value that is not allowed ("
                + (value == null ? "null" : value.getClass().getSimpleName())
                + "): use a string, a whole number, a decimal number or a boolean");
    }

    /** Validates tags: each like a name, at most 32. */
    public static List<String> tags(List<String> tags) {
        if (tags == null || tags.isEmpty()) {
            return List.of();
        }
        if (tags.size() > 32) {
            throw invalid("too many tags (" + tags.size() + "): at most 32");
        }
        List<String> out = new ArrayList<>(tags.size());
        for (String t : tags) {
            String tag = name("tag", t);
            if (!out.contains(tag)) {
                out.add(tag);
            }
        }
        return List.copyOf(out);
    }

    /** A new {@link SkyDeckException.InvalidInput}. */
    public static SkyDeckException.InvalidInput invalid(String message) {
        return new SkyDeckException.InvalidInput(message);
    }

    private static boolean hasControl(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 && c != '\t' || c == 0x7f) {
                return true;
            }
        }
        return false;
    }

    private static String show(String value) {
        if (value == null) {
            return "(missing)";
        }
        String s = value.length() > 60 ? value.substring(0, 60) + "…" : value;
        return "'" + s.replaceAll("[\\p{Cntrl}\\p{Cf}\\p{Zl}\\p{Zp}]", "?") + "'";
    }
}
