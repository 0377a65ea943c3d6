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
        return run(args, null, null, false);
    }

    /**
     * Runs {@code args}, printing to {@code out} and {@code err} (the console when null). Unless
     * {@code wholeTree}, a command line that starts with a command's name builds that command
     * alone: picocli reads every command's options by reflection when it builds a tree, which
     * costs a tenth of a second of each {@code skydeck serve}; the one command parses and helps as it does inside
     * the tree, and a usage error goes to the tree to be worded.
     */
    static int run(String[] args, java.io.PrintWriter out, java.io.PrintWriter err, boolean wholeTree) {
        if (args.length > 0 && AdminCommands.NAMES.contains(args[0])) {
            // read by LogConfiguration when logging starts (nothing has logged yet): a token or JSON alone on stdout
            System.setProperty("SKYDECK_LOG_TARGET", "System.err");
            if (System.getenv("SKYDECK_LOG_LEVEL") == null) {
                System.setProperty("SKYDECK_LOG_LEVEL", "WARN");
            }
        }
        Class<?> alone = wholeTree || args.length == 0 ? null : command(args[0]);
        CommandLine cli = alone == null ? new CommandLine(new Main())
                : new CommandLine(alone).setCommandName(Main.class.getAnnotation(Command.class).name() + " " + args[0]);
        if (out != null) {
            cli.setOut(out);
        }
        if (err != null) {
            cli.setErr(err);
        }
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof SkyDeckException || e instanceof ApiClient.Failure) {
                cmd.getErr().println("skydeck: " + e.getMessage());
                return FAILED;
            }
            throw e;
        });
        if (alone == null) {
            return cli.execute(args);
        }
        String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
        try {
            cli.parseArgs(rest);
        } catch (CommandLine.ParameterException e) {
            // a usage error is worded with the positions and names of the whole command line:
            // nothing has run, so the tree parses it again and says it
            return run(args, out, err, true);
        }
        return cli.execute(rest);
    }

    /** The class of the top-level command named {@code name} (not {@code help}, which needs the tree), or null. */
    private static Class<?> command(String name) {
        for (Class<?> sub : Main.class.getAnnotation(Command.class).subcommands()) {
            Command c = sub.getAnnotation(Command.class);
            if (c != null && sub != CommandLine.HelpCommand.class
                    && (c.name().equals(name) || java.util.Arrays.asList(c.aliases()).contains(name))) {
                return sub;
            }
        }
        return null;
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
