package dev.skydeck;

import dev.skydeck.internal.Validate;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Builds and renders the command line of an experiment (SPEC §7):
 * {@code <base_command> --gpus=<gpus> --nodes=<nodes> [--git-ref=<branch>] [<tool_path>] run=<name> <key>=<value>…}
 * with flags sorted by key, booleans as {@code true}/{@code false} and numbers in their shortest
 * exact form. The command is a list of arguments, run without a shell; {@link #render} quotes it
 * for display and for shell scripts so that no value can inject shell syntax.
 */
public final class CommandLine {
    private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9_@%+=:,./-]+");

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
        args.add("run=" + spec.name());
        for (Map.Entry<String, Object> flag : new TreeMap<>(spec.flags()).entrySet()) {
            args.add(flag.getKey() + "=" + format(flag.getValue()));
        }
        return List.copyOf(args);
    }

    /** A flag value as it appears on the command line. */
    public static String format(Object value) {
        if (value instanceof Double d) {
            if (d == Math.rint(d) && Math.abs(d) < 1e15) {
                return BigDecimal.valueOf(d).setScale(1).toPlainString();
            }
            return Double.toString(d);
        }
        return String.valueOf(value);
    }

    /** The arguments as one line a POSIX shell would split back into exactly these arguments. */
    public static String render(List<String> args) {
        StringBuilder sb = new StringBuilder();
        for (String arg : args) {
            if (sb.length() > 0) {
                sb.append(' ');
            }
            sb.append(quote(arg));
        }
        return sb.toString();
    }

    /** One argument quoted for a POSIX shell: unchanged when safe, else in single quotes. */
    public static String quote(String arg) {
        if (!arg.isEmpty() && SAFE.matcher(arg).matches()) {
            return arg;
        }
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
