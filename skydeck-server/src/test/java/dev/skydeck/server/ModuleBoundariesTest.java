package dev.skydeck.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The layout's rule (STYLE.md): a module uses another module only through its public packages;
 * no source file, main or test, imports an {@code internal} package of another module.
 */
class ModuleBoundariesTest {
    /** A package of SkyDeck's with {@code internal} in it, up to the first class name. */
    private static final Pattern INTERNAL = Pattern.compile("\\b(dev\\.skydeck(?:\\.[a-z][a-z0-9]*)*\\.internal"
            + "(?:\\.[a-z][a-z0-9]*)*)\\.[A-Z]");

    @Test
    void noModuleReachesIntoAnotherModulesInternals() throws IOException {
        Path root = Path.of(System.getProperty("user.dir")).getParent();
        List<Path> modules;
        try (Stream<Path> s = Files.list(root)) {
            modules = s.filter(m -> Files.isDirectory(m.resolve("src/main/java"))).sorted().toList();
        }
        assertThat(modules).extracting(m -> m.getFileName().toString())
                .contains("skydeck-core", "skydeck-sqlite", "skydeck-skypilot", "skydeck-server", "skydeck-testing");
        List<String> violations = new ArrayList<>();
        for (Path module : modules) {
            Set<String> own = packages(module.resolve("src/main/java"));
            for (String dir : List.of("src/main/java", "src/test/java")) {
                Path src = module.resolve(dir);
                if (!Files.isDirectory(src)) {
                    continue;
                }
                try (Stream<Path> files = Files.walk(src)) {
                    files.filter(f -> f.toString().endsWith(".java")).forEach(f -> {
                        String text = read(f);
                        Matcher m = INTERNAL.matcher(text);
                        while (m.find()) {
                            String used = m.group(1);
                            if (!own.contains(used)) {
                                violations.add(root.relativize(f) + " uses " + used);
                            }
                        }
                    });
                }
            }
        }
        assertThat(violations).as("imports of another module's internal packages").isEmpty();
    }

    private static Set<String> packages(Path src) throws IOException {
        Set<String> out = new TreeSet<>();
        try (Stream<Path> dirs = Files.walk(src)) {
            dirs.filter(Files::isDirectory).forEach(d -> out.add(src.relativize(d).toString().replace('/', '.')));
        }
        return out;
    }

    private static String read(Path f) {
        try {
            return Files.readString(f);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
