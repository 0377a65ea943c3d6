package dev.skydeck.internal.schema;

import dev.skydeck.CommandLine;
import dev.skydeck.FlagSchema;
import dev.skydeck.FlagSpec;
import dev.skydeck.FlagType;
import dev.skydeck.SkyDeckException;
import dev.skydeck.internal.Validate;
import dev.skydeck.internal.json.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs an operator's flag schema command (see {@link FlagSchema#fromCommand}). Output goes to
 * temporary files rather than pipes, so no reader threads are needed and a chatty command cannot
 * block on a full pipe.
 */
public final class SchemaCommand {
    private static final Logger log = LoggerFactory.getLogger(SchemaCommand.class);
    /** Output larger than this is refused. */
    static final long MAX_OUTPUT_BYTES = 8L * 1024 * 1024;
    private static final int STDERR_EXCERPT = 800;

    private SchemaCommand() {
    }

    /** Runs the command and parses what it prints. */
    public static FlagSchema run(List<String> command, String toolPath, Duration timeout) {
        if (command == null || command.isEmpty()) {
            throw Validate.invalid("the flag schema command is empty: set SKYDECK_FLAG_SCHEMA_COMMAND");
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw Validate.invalid("the flag schema command needs a positive timeout, not " + timeout);
        }
        String tool = Validate.optional("tool_path", toolPath, Validate.TOOL_PATH,
                "letters, digits and . _ / : - (at most 256), no '..'");
        List<String> argv = new ArrayList<>(command);
        if (tool != null) {
            argv.add(tool);
        }
        String shown = CommandLine.render(argv);
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("skydeck-flag-schema", ".out");
            err = Files.createTempFile("skydeck-flag-schema", ".err");
            Process process;
            try {
                process = new ProcessBuilder(argv)
                        .redirectOutput(out.toFile())
                        .redirectError(err.toFile())
                        .redirectInput(ProcessBuilder.Redirect.PIPE)
                        .start();
            } catch (IOException e) {
                throw new SkyDeckException("flag schema command `" + shown + "` cannot be started: " + e.getMessage()
                        + "; check SKYDECK_FLAG_SCHEMA_COMMAND", false, e);
            }
            process.getOutputStream().close();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                killTree(process);
                throw new SkyDeckException("flag schema command `" + shown + "` did not finish within "
                        + describe(timeout) + " and was killed" + excerpt(err), true, null);
            }
            int exit = process.exitValue();
            if (exit != 0) {
                throw new SkyDeckException("flag schema command `" + shown + "` exited with status " + exit
                        + excerpt(err), false, null);
            }
            if (Files.size(out) > MAX_OUTPUT_BYTES) {
                throw new SkyDeckException("flag schema command `" + shown + "` printed more than "
                        + MAX_OUTPUT_BYTES / (1024 * 1024) + " MiB", false, null);
            }
            String json = Files.readString(out, StandardCharsets.UTF_8);
            try {
                return parse(json);
            } catch (Json.SyntaxError | SkyDeckException.InvalidInput e) {
                throw new SkyDeckException("flag schema command `" + shown + "` printed a bad schema: "
                        + e.getMessage(), false, e);
            }
        } catch (IOException e) {
            throw new SkyDeckException("flag schema command `" + shown + "` failed: " + e, true, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SkyDeckException("interrupted while running flag schema command `" + shown + "`", true, e);
        } finally {
            delete(out);
            delete(err);
        }
    }

    /**
     * Parses {@code {"schema": {"<flag>": {"type": …, "default": …, "required": …,
     * "description": …, "choices": […]}}}}.
     *
     * @throws Json.SyntaxError               if it is not JSON
     * @throws SkyDeckException.InvalidInput if the JSON does not have that shape
     */
    public static FlagSchema parse(String json) {
        Object root = Json.parse(json);
        if (!(root instanceof Map<?, ?> rootMap) || !(rootMap.get("schema") instanceof Map<?, ?> schema)) {
            throw Validate.invalid("expected an object {\"schema\": {…}} at the top");
        }
        List<FlagSpec> specs = new ArrayList<>();
        for (Map.Entry<?, ?> e : schema.entrySet()) {
            String key = (String) e.getKey();
            if (!(e.getValue() instanceof Map<?, ?> entry)) {
                throw Validate.invalid("flag " + key + ": expected an object describing the flag");
            }
            spec(key, entry).ifPresent(specs::add);
        }
        return FlagSchema.of(specs);
    }

    private static Optional<FlagSpec> spec(String key, Map<?, ?> entry) {
        Object typeName = entry.get("type");
        Object choicesValue = entry.get("choices");
        List<String> choices = new ArrayList<>();
        if (choicesValue instanceof List<?> list) {
            for (Object c : list) {
                if (c == null || c instanceof Map || c instanceof List) {
                    throw Validate.invalid("flag " + key + ": choices must be strings, numbers or booleans");
                }
                choices.add(c.toString());
            }
        } else if (choicesValue != null) {
            throw Validate.invalid("flag " + key + ": choices must be a list");
        }
        Object defaultValue = entry.get("default");
        if (defaultValue instanceof Map || defaultValue instanceof List) {
            defaultValue = null; // a list or object default cannot be a flag value
        }
        FlagType type;
        if (typeName == null) {
            type = !choices.isEmpty() ? FlagType.ENUM
                    : defaultValue != null ? FlagType.of(defaultValue) : FlagType.STRING;
        } else if (typeName instanceof String name) {
            Optional<FlagType> parsed = FlagType.parse(name);
            if (parsed.isEmpty()) {
                log.debug("Skipping flag {} of unsupported type {}", key, name);
                return Optional.empty();
            }
            type = parsed.get();
        } else {
            throw Validate.invalid("flag " + key + ": type must be a string");
        }
        if (type == FlagType.ENUM && choices.isEmpty()) {
            throw Validate.invalid("flag " + key + ": an enum needs a non-empty list of choices");
        }
        if (type == FlagType.ENUM && defaultValue != null) {
            defaultValue = defaultValue.toString();
        }
        Object required = entry.get("required");
        if (required != null && !(required instanceof Boolean)) {
            throw Validate.invalid("flag " + key + ": required must be true or false");
        }
        Object description = entry.get("description");
        if (description != null && !(description instanceof String)) {
            throw Validate.invalid("flag " + key + ": description must be a string");
        }
        return Optional.of(new FlagSpec(key, type, defaultValue, Boolean.TRUE.equals(required),
                (String) description, type == FlagType.ENUM ? choices : List.of(), List.of(), 0, true));
    }

    private static void killTree(Process process) throws InterruptedException {
        List<ProcessHandle> children = process.descendants().toList();
        process.destroyForcibly();
        children.forEach(ProcessHandle::destroyForcibly);
        process.waitFor(5, TimeUnit.SECONDS);
    }

    private static String excerpt(Path err) {
        try {
            String text = Files.readString(err, StandardCharsets.UTF_8).strip();
            if (text.isEmpty()) {
                return "";
            }
            if (text.length() > STDERR_EXCERPT) {
                text = "…" + text.substring(text.length() - STDERR_EXCERPT);
            }
            return ": " + text.replaceAll("[\\p{Cntrl}&&[^\n\t]]", "?");
        } catch (IOException e) {
            return "";
        }
    }

    private static String describe(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    private static void delete(Path file) {
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                log.debug("Cannot delete {}", file, e);
            }
        }
    }
}
