package dev.skydeck.cli;

import dev.skydeck.SkyDeck;
import dev.skydeck.SkyDeckException;
import dev.skydeck.cli.internal.AdminCommands;
import dev.skydeck.cli.internal.ApiClient;
import dev.skydeck.cli.internal.ImportCommand;
import dev.skydeck.cli.internal.JvmOptions;
import dev.skydeck.cli.internal.ScriptCommands;
import dev.skydeck.cli.internal.ServerCommands;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code skydeck} command line: runs the server (in the foreground or the background) and
 * scripts a running one over its REST API. {@code skydeck} alone starts the server if needed
 * and opens the dashboard.
 */
@Command(name = "skydeck", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Declarative ML experiments on SkyPilot (or local processes): server, dashboard and scripting.",
        subcommands = {ServerCommands.Open.class, ServerCommands.Serve.class, ServerCommands.Start.class,
                ServerCommands.Stop.class, ServerCommands.Restart.class, ServerCommands.Status.class,
                ServerCommands.Logs.class, ServerCommands.Demo.class, ImportCommand.class, ScriptCommands.Exp.class,
                ScriptCommands.Apply.class, ScriptCommands.Jobs.class, ScriptCommands.Backfill.class,
                AdminCommands.Token.class, AdminCommands.Migrate.class, CommandLine.HelpCommand.class},
        footer = {"", "Configuration: flags override SKYDECK_* environment variables (see the README)."})
public final class Main implements java.util.concurrent.Callable<Integer> {
    /** Exit status when the command failed. */
    public static final int FAILED = 1;

    /**
     * Runs the command line and exits with its status. {@code serve} and {@code demo} started
     * without a heap limit run in a bounded child JVM ({@link JvmOptions#reexecIfUnbounded}).
     */
    public static void main(String[] args) {
        if (args.length > 0 && (args[0].equals("serve") || args[0].equals("demo"))) {
            try {
                var status = JvmOptions.reexecIfUnbounded(args, Settings.load(System.getenv(), java.util.Map.of()).home());
                if (status.isPresent()) {
                    System.exit(status.getAsInt());
                }
            } catch (java.io.IOException | RuntimeException e) {
                System.err.println("skydeck: cannot start the server in a bounded JVM (" + e.getMessage()
                        + "); serving in this one (set -Xmx256m, or SKYDECK_NO_REEXEC=1 to skip this)");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                System.exit(FAILED);
            }
        }
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit status (0 ok, 1 failed, 2 usage, 3 not running). */
    public static int run(String... args) {
        if (args.length > 0 && AdminCommands.NAMES.contains(args[0])) {
            // read by logback.xml when it starts (nothing has logged yet): a token or JSON alone on stdout
            System.setProperty("SKYDECK_LOG_TARGET", "System.err");
            if (System.getenv("SKYDECK_LOG_LEVEL") == null) {
                System.setProperty("SKYDECK_LOG_LEVEL", "WARN");
            }
        }
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof SkyDeckException || e instanceof ApiClient.Failure) {
                cmd.getErr().println("skydeck: " + e.getMessage());
                return FAILED;
            }
            throw e;
        });
        return cli.execute(args);
    }

    /** With no command: start the server if needed and open the dashboard. */
    @Override
    public Integer call() throws Exception {
        return new ServerCommands.Open().call();
    }

    /** The version picocli prints. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"skydeck " + SkyDeck.VERSION + " (Java " + Runtime.version() + ")"};
        }
    }
}
