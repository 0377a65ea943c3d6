package dev.skydeck.testing;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** A store module's Flyway migrations as files on the test class path. */
public final class MigrationFiles {
    private static final Pattern MIGRATION = Pattern.compile("V(\\d+)__.+\\.sql");

    private MigrationFiles() {}

    /**
     * The version of the newest {@code V<n>__*.sql} in {@code folder} (a class-path directory such
     * as {@code db/migration}, found through {@code loader}).
     *
     * @throws IllegalStateException when the folder is not on the class path or holds no migration
     */
    public static int newestVersion(ClassLoader loader, String folder) throws IOException, URISyntaxException {
        URL url = loader.getResource(folder);
        if (url == null) {
            throw new IllegalStateException("no " + folder + " on the class path");
        }
        try (Stream<Path> files = Files.list(Path.of(url.toURI()))) {
            return files.map(p -> MIGRATION.matcher(p.getFileName().toString()))
                    .filter(Matcher::matches)
                    .mapToInt(m -> Integer.parseInt(m.group(1)))
                    .max()
                    .orElseThrow(() -> new IllegalStateException("no migration in " + folder));
        }
    }
}
