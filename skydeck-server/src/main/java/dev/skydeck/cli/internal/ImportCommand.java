package dev.skydeck.cli.internal;

import dev.skydeck.SkyDeckException;
import dev.skydeck.cli.Settings;
import dev.skydeck.sqlite.OriginalImport;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code skydeck import [PATH]}: brings a database of the original (Python) SkyDeck over with
 * {@link OriginalImport#intoFile}. When PATH is where the new database goes (both default to
 * {@code ~/.skydeck/skydeck.db}), the original is moved aside to {@code skydeck.original.db},
 * unchanged, and SkyDeck's database is written in its place. Launches and cancels nothing.
 */
@Command(name = "import", mixinStandardHelpOptions = true,
        description = {"Bring a database of the original (Python) SkyDeck over: experiments, jobs, checkpoints, "
                + "groups, history and settings, in one transaction. Launches and cancels nothing; running it again "
                + "changes nothing.",
                "When PATH is the new database's path (both default to ~/.skydeck/skydeck.db), the original is "
                        + "moved aside, byte for byte, to skydeck.original.db beside it."})
public final class ImportCommand implements Callable<Integer> {
    @Parameters(arity = "0..1", paramLabel = "PATH",
            description = "The original's database (default: the new database's path, ~/.skydeck/skydeck.db).")
    String path;
    @Option(names = "--db-path", description = "SkyDeck's database to write (SKYDECK_DB_PATH, default ~/.skydeck/skydeck.db).")
    String dbPath;
    @Option(names = "--local-zone", paramLabel = "ZONE", description = "The time zone the original ran in, for "
            + "jobs.created_at, which it wrote in local time (default: this machine's).")
    String zone;
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Map<String, String> overrides = new LinkedHashMap<>();
        if (dbPath != null) {
            overrides.put("SKYDECK_DB_PATH", dbPath);
        }
        Settings s = Settings.load(System.getenv(), overrides);
        Path target = s.dbPath();
        Path source = path == null ? target : Path.of(path.startsWith("~/")
                ? System.getProperty("user.home") + path.substring(1) : path).toAbsolutePath().normalize();
        if (!Files.exists(source)) {
            throw new SkyDeckException.InvalidInput(source + " does not exist: name the original SkyDeck's database "
                    + "(usually ~/.skydeck/skydeck.db)");
        }
        ZoneId localZone;
        try {
            localZone = zone == null ? ZoneId.systemDefault() : ZoneId.of(zone);
        } catch (DateTimeException e) {
            throw new SkyDeckException.InvalidInput("--local-zone '" + zone + "' is not allowed: use a zone such as "
                    + "Europe/Berlin, America/Los_Angeles or UTC");
        }
        Optional<PidFile> live = PidFile.readLive(s.pidFile());
        if (live.isPresent() && live.get().db() != null && (Path.of(live.get().db()).equals(target)
                || Path.of(live.get().db()).equals(source))) {
            throw new SkyDeckException("a SkyDeck server (pid " + live.get().pid() + ") runs on " + live.get().db()
                    + ": stop it first (skydeck stop), then import again. Nothing was changed");
        }
        try {
            Files.createDirectories(target.getParent());
        } catch (java.io.IOException e) {
            throw new SkyDeckException("cannot create " + target.getParent() + ": " + e.getMessage(), false, e);
        }
        OriginalImport.Report r = OriginalImport.from(source).localZone(localZone).intoFile(target);
        r.lines().forEach(out::println);
        if (r.changed()) {
            out.println("SkyDeck's database is " + target + ". Next: skydeck start (or skydeck, to open the dashboard)"
                    + (dbPath == null ? "" : " with --db-path " + target));
        }
        out.flush();
        return 0;
    }
}
