package dev.skydeck;

import dev.skydeck.internal.Validate;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Builds and renders the command line of an experiment (SPEC §7):
 * {@code <base_command> --gpus=<gpus> --nodes=<nodes> [--git-ref=<branch>] [<tool_path>] run=<run name or name> <key>=<value>…}
 * with flags sorted by key, booleans as {@code true}/{@code false} and numbers in their shortest
 * exact form. The command is a list of arguments, run without a shell; {@link #render} quotes it
 * for display and for shell scripts so that no value can inject shell syntax.
 */
public final class CommandLine {

    private CommandLine() {
    }

    /** The arguments of an experiment's command. */
    public static List<String> build(ExperimentSpec spec) {
        List<String> args = new ArrayList<>(split(spec.baseCommand()));
        args.add("--gpus=" + spec.gpus());
        args.add("--nodes=" + spec.nodes());
        if (spec.gitBranch() != null) {
            args.add("--git-ref=" + spec.gitBranch());
        }
        if (spec.toolPath() != null) {
            args.add(spec.toolPath());
        }
        args.add("run=" + spec.run());
        for (Map.Entry<String, Object> flag : new TreeMap<>(spec.flags()).entrySet()) {
            args.add(flag.getKey() + "=" + format(flag.getValue()));
        }
        return List.copyOf(args);
    }

    /**
     * A flag value as it appears on the command line: strings unchanged, longs in plain digits,
     * booleans as {@code true}/{@code false}, and doubles exactly as Python's {@code repr} writes
     * them (the original SkyDeck was Python, and users' launch scripts parse its output): the
     * shortest digits that read back as the same double, plain notation with at least one
     * decimal ({@code 3.0}, {@code 0.1}, {@code 0.0003}, {@code 123456789.0}) unless the decimal
     * exponent is below -4 or above 15 ({@code 1e-05}, {@code 1.5e-07}, {@code 1e+16}). A
     * double never prints like a whole number, so it reads back as a float.
     */
    public static String format(Object value) {
        if (value instanceof Double d) {
            return formatDouble(d);
        }
        if (value instanceof Float f) {
            return formatDouble(Double.parseDouble(Float.toString(f)));
        }
        return String.valueOf(value);
    }

    private static String formatDouble(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        BigDecimal shortest = shortest(d);
        String digits = shortest.unscaledValue().abs().toString();
        // value = 0.<digits> x 10^point
        int point = digits.length() - shortest.scale();
        String sign = d < 0 ? "-" : "";
        if (point > -4 && point <= 16) {
            if (point <= 0) {
                return sign + "0." + "0".repeat(-point) + digits;
            }
            if (point >= digits.length()) {
                return sign + digits + "0".repeat(point - digits.length()) + ".0";
            }
            return sign + digits.substring(0, point) + "." + digits.substring(point);
        }
        int exponent = point - 1;
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return sign + mantissa + "e" + (exponent < 0 ? "-" : "+")
                + (Math.abs(exponent) < 10 ? "0" : "") + Math.abs(exponent);
    }

    /**
     * The decimal with the fewest significant digits that reads back as {@code d}, the closest to
     * {@code d} among those (what Python's repr and Java 19+'s Double.toString print; Java 17's
     * Double.toString sometimes prints a digit more). Trailing zeros stripped.
     */
    private static BigDecimal shortest(double d) {
        BigDecimal exact = new BigDecimal(d);
        for (int precision = 1; precision <= 17; precision++) {
            BigDecimal rounded = exact.round(new MathContext(precision, RoundingMode.HALF_EVEN));
            if (rounded.doubleValue() == d) {
                return rounded.stripTrailingZeros();
            }
            // Next to a power of two the interval that reads back as d is lopsided: a neighbour
            // of the closest candidate may read back when the closest does not.
            BigDecimal unit = BigDecimal.ONE.scaleByPowerOfTen(-rounded.scale());
            BigDecimal best = null;
            for (BigDecimal candidate : new BigDecimal[] {rounded.subtract(unit), rounded.add(unit)}) {
                if (candidate.doubleValue() == d && (best == null
                        || candidate.subtract(exact).abs().compareTo(best.subtract(exact).abs()) < 0)) {
                    best = candidate;
                }
            }
            if (best != null) {
                return best.stripTrailingZeros();
            }
        }
        return exact.round(MathContext.DECIMAL64).stripTrailingZeros();
    }

    /**
     * The arguments as one line a POSIX shell would split back into exactly these arguments and
     * run as the same program: a first word containing {@code =} is quoted, or the shell would
     * take it for a variable assignment instead of the command.
     */
    public static String render(List<String> args) {
        StringBuilder sb = new StringBuilder();
        for (String arg : args) {
            if (sb.length() > 0) {
                sb.append(' ');
                sb.append(quote(arg));
            } else {
                sb.append(arg.indexOf('=') >= 0 ? singleQuoted(arg) : quote(arg));
            }
        }
        return sb.toString();
    }

    /**
     * One argument quoted for a POSIX shell: unchanged when safe, else in single quotes. A
     * leading {@code =} is quoted too (zsh expands {@code =word} to a path).
     */
    public static String quote(String arg) {
        if (!arg.isEmpty() && arg.charAt(0) != '=' && isSafe(arg)) {
            return arg;
        }
        return singleQuoted(arg);
    }

    /** Whether every character is in {@code [A-Za-z0-9_@%+=:,./-]} (a loop: this runs per flag of every listed experiment). */
    private static boolean isSafe(String arg) {
        for (int i = 0; i < arg.length(); i++) {
            char c = arg.charAt(i);
            boolean ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                    || "_@%+=:,./-".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static String singleQuoted(String arg) {
        return "'" + arg.replace("'", "'\"'\"'") + "'";
    }

    /**
     * Splits a command into words as a POSIX shell would, honouring single quotes, double
     * quotes and backslashes; no expansion of any kind happens.
     *
     * @throws SkyDeckException.InvalidInput on an unterminated quote or an empty command
     */
    public static List<String> split(String command) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        for (int i = 0; i < command.length(); i++) {
            char c = command.charAt(i);
            if (quote == '\'') {
                if (c == '\'') {
                    quote = 0;
                } else {
                    word.append(c);
                }
            } else if (quote == '"') {
                if (c == '"') {
                    quote = 0;
                } else if (c == '\\' && i + 1 < command.length() && "\"\\$`".indexOf(command.charAt(i + 1)) >= 0) {
                    word.append(command.charAt(++i));
                } else {
                    word.append(c);
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
                inWord = true;
            } else if (c == '\\') {
                if (i + 1 < command.length()) {
                    word.append(command.charAt(++i));
                }
                inWord = true;
            } else if (c == ' ' || c == '\t') {
                if (inWord) {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            } else {
                word.append(c);
                inWord = true;
            }
        }
        if (quote != 0) {
            throw Validate.invalid("base_command has an unterminated " + (quote == '"' ? "double" : "single")
                    + " quote: " + command);
        }
        if (inWord) {
            words.add(word.toString());
        }
        if (words.isEmpty()) {
            throw Validate.invalid("base_command must not be empty");
        }
        return words;
    }
}
