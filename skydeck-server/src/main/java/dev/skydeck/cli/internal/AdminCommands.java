package dev.skydeck.cli.internal;

import dev.skydeck.ApiToken;
import dev.skydeck.SkyDeck;
import dev.skydeck.SkyDeckConfig;
import dev.skydeck.SkyDeckException;
import dev.skydeck.cli.Settings;
import dev.skydeck.jdbc.JdbcStore;
import dev.skydeck.server.internal.Json;
import dev.skydeck.spi.Store;
import dev.skydeck.spi.StoreProvider;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * Commands that work on the deck's database itself rather than through a server: users' API
 * tokens and moving a SQLite deck up to PostgreSQL. Whoever can open the database administers
 * the deck.
 */
public final class AdminCommands {
    /** The commands here: their logs go to stderr, warnings only, so stdout carries just the answer. */
    public static final java.util.Set<String> NAMES = java.util.Set.of("token", "migrate");

    private AdminCommands() {
    }

    /** {@code skydeck token …}. */
    @Command(name = "token", mixinStandardHelpOptions = true,
            description = "Create, list or revoke users' API tokens (a deck with tokens asks every request for one).",
            subcommands = {TokenCreate.class, TokenList.class, TokenRevoke.class})
    public static final class Token implements Callable<Integer> {
        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            spec.commandLine().usage(spec.commandLine().getOut());
            return 0;
        }
    }

    /** Opens the deck of the settings without starting its engine. */
    static SkyDeck openDeck(Settings s) {
        if (s.localDatabase() && !Files.exists(s.dbPath())) {
            throw new SkyDeckException.InvalidInput("there is no deck at " + s.dbPath() + " (start SkyDeck once, or"
                    + " pass --db-path/--db-url)");
        }
        return SkyDeck.builder().config(s.engine()).backend("local", "admin command").autoStart(false).build();
    }

    /** {@code skydeck token create NAME}. */
    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a token for user NAME and print it once (only its hash is stored).")
    public static final class TokenCreate implements Callable<Integer> {
        @Parameters(paramLabel = "NAME", description = "The user: letters, digits and . _ @ - (up to 64).")
        String name;
        @Mixin
        ServerCommands.ServerOptions options = new ServerCommands.ServerOptions();
        @Option(names = "--json", description = "Print JSON.")
        boolean json;
        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            try (SkyDeck deck = openDeck(options.settings())) {
                ApiToken.NewToken t = deck.createToken(name);
                if (json) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("id", t.token().id());
                    m.put("user", t.token().user());
                    m.put("token", t.secret());
                    out.println(Json.string(m));
                } else {
                    out.println(t.secret());
                    spec.commandLine().getErr().println("Token " + t.token().id() + " for " + t.token().user()
                            + ": shown once, give it to them (Authorization: Bearer <token>, or SKYDECK_TOKEN for"
                            + " the CLI). From now on every API request needs a token.");
                }
            }
            return 0;
        }
    }

    /** {@code skydeck token list}. */
    @Command(name = "list", mixinStandardHelpOptions = true, description = "List tokens (never their secrets).")
    public static final class TokenList implements Callable<Integer> {
        @Mixin
        ServerCommands.ServerOptions options = new ServerCommands.ServerOptions();
        @Option(names = "--json", description = "Print JSON.")
        boolean json;
        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            try (SkyDeck deck = openDeck(options.settings())) {
                List<ApiToken> tokens = deck.tokens();
                if (json) {
                    out.println(Json.string(Map.of("tokens", tokens.stream()
                            .map(dev.skydeck.server.internal.Views.TokenView::of).toList())));
                    return 0;
                }
                List<List<String>> rows = new ArrayList<>();
                for (ApiToken t : tokens) {
                    rows.add(List.of(t.id(), t.user(), t.createdAt().toString(),
                            t.valid() ? "valid" : "revoked " + t.revokedAt()));
                }
                if (rows.isEmpty()) {
                    out.println("No tokens: the deck has no users (create one with `skydeck token create NAME`)");
                } else {
                    Output.table(out, List.of("ID", "USER", "CREATED", "STATE"), rows);
                }
            }
            return 0;
        }
    }

    /** {@code skydeck token revoke ID}. */
    @Command(name = "revoke", mixinStandardHelpOptions = true,
            description = "Revoke a token: it stops working at once on every server of the deck.")
    public static final class TokenRevoke implements Callable<Integer> {
        @Parameters(paramLabel = "ID", description = "The token's id (tok_…), from `skydeck token list`.")
        String id;
        @Mixin
        ServerCommands.ServerOptions options = new ServerCommands.ServerOptions();
        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            try (SkyDeck deck = openDeck(options.settings())) {
                ApiToken t = deck.revokeToken(id);
                spec.commandLine().getOut().println("Revoked " + t.id() + " of " + t.user());
            }
            return 0;
        }
    }

    /** {@code skydeck migrate --to jdbc:postgresql://…}. */
    @Command(name = "migrate", mixinStandardHelpOptions = true,
            description = "Copy this SQLite deck (everything, ids included) into an empty database, such as"
                    + " PostgreSQL, in one transaction, and verify the counts.")
    public static final class Migrate implements Callable<Integer> {
        @Option(names = "--to", required = true, paramLabel = "URL",
                description = "The empty target: jdbc:postgresql://host:5432/db (password from PGPASSWORD or"
                        + " ~/.pgpass).")
        String to;
        @Mixin
        ServerCommands.ServerOptions options = new ServerCommands.ServerOptions();
        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
                Settings s = options.settings();
            if (!s.localDatabase()) {
                throw new SkyDeckException.InvalidInput("migrate copies a SQLite deck: the source is "
                        + s.database() + " (pass --db-path to name the SQLite file)");
            }
            if (!Files.isRegularFile(s.dbPath())) {
                throw new SkyDeckException.InvalidInput("there is no deck at " + s.dbPath());
            }
            Optional<PidFile> live = PidFile.readLive(s.pidFile());
            if (live.isPresent() && s.dbPath().toString().equals(live.get().db())) {
                throw new SkyDeckException.InvalidInput("SkyDeck is running on " + s.dbPath() + " (pid "
                        + live.get().pid() + "): stop it first (`skydeck stop`) so nothing is written during the copy");
            }
            SkyDeckConfig targetConfig = s.engine().toBuilder().databaseUrl(to).build();
            String target = SkyDeckConfig.withoutParameters(targetConfig.databaseUrl());
            try (JdbcStore source = jdbc(open(s.engine().databaseUrl(), s.engine()), s.database());
                 JdbcStore into = jdbc(open(targetConfig.databaseUrl(), targetConfig), target)) {
                out.println("Copying " + s.dbPath() + " into " + target + " …");
                Map<String, Long> rows = source.copyInto(into);
                List<List<String>> table = new ArrayList<>();
                rows.forEach((name, n) -> table.add(List.of(name, Long.toString(n))));
                Output.table(out, List.of("TABLE", "ROWS"), table);
                out.println("Done: the counts match. Run the deck on it with"
                        + " `skydeck serve --db-url " + target + "` (the SQLite file is left as it was).");
            }
            return 0;
        }

        private static Store open(String url, SkyDeckConfig config) {
            for (StoreProvider p : ServiceLoader.load(StoreProvider.class)) {
                if (p.accepts(url)) {
                    return p.open(url, config);
                }
            }
            throw new SkyDeckException.InvalidInput("no store opens " + SkyDeckConfig.withoutParameters(url)
                    + ": use jdbc:postgresql://host:port/database");
        }

        private static JdbcStore jdbc(Store store, String name) {
            if (store instanceof JdbcStore j) {
                return j;
            }
            store.close();
            throw new SkyDeckException.InvalidInput(name + " is not a SQL database SkyDeck can copy");
        }
    }
}
