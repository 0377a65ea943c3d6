package dev.skydeck.cli.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.skydeck.SkyDeckException;
import dev.skydeck.cli.Settings;
import dev.skydeck.server.internal.Json;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** Commands that script a running server over its REST API. */
public final class ScriptCommands {
    private ScriptCommands() {
    }

    /** Where the server is, and how to print. */
    public static final class ClientOptions {
        @Option(names = "--url", description = "The server (SKYDECK_URL; default: the running background server, "
                + "else http://SKYDECK_HOST:SKYDECK_PORT).")
        String url;
        @Option(names = "--json", description = "Print JSON for scripts instead of tables.")
        boolean json;

        ApiClient client() {
            Settings s = Settings.load(System.getenv(), Map.of());
            String base = url != null ? url : System.getenv("SKYDECK_URL");
            if (base == null || base.isBlank()) {
                base = PidFile.readLive(s.pidFile()).map(PidFile::url).orElse(s.localUrl());
            }
            if (!base.matches("https?://\\S+")) {
                throw new SkyDeckException.InvalidInput("--url/SKYDECK_URL '" + base + "' is not an http(s) URL");
            }
            return new ApiClient(base, Settings.clientToken(System.getenv(), s));
        }
    }

    static boolean terminal() {
        return System.console() != null;
    }

    /** {@code skydeck exp …}. */
    @Command(name = "exp", mixinStandardHelpOptions = true, description = "List, create, start, stop or delete experiments.",
            subcommands = {ExpList.class, ExpCreate.class, ExpStart.class, ExpStop.class, ExpRestart.class,
                ExpDelete.class})
    public static final class Exp implements Callable<Integer> {
        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            spec.commandLine().usage(spec.commandLine().getOut());
            return 2;
        }
    }

    /** {@code skydeck exp list}. */
    @Command(name = "list", mixinStandardHelpOptions = true, description = "List experiments.")
    public static final class ExpList implements Callable<Integer> {
        @Mixin
        ClientOptions client = new ClientOptions();
        @Option(names = {"-q", "--query"}, description = "Text to look for in names, descriptions and tags.")
        String query;
        @Option(names = "--state", description = "Only this current state (RUNNING, FAILED, …).")
        String state;
        @Option(names = "--limit", description = "At most this many (default 1000).")
        int limit = 1000;
        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            StringBuilder path = new StringBuilder("/api/experiments?limit=" + limit);
            if (query != null) {
                path.append("&q=").append(ApiClient.q(query));
            }
            if (state != null) {
                path.append("&state=").append(ApiClient.q(state));
            }
            JsonNode res = client.client().get(path.toString());
            PrintWriter out = spec.commandLine().getOut();
            if (client.json) {
                out.println(Json.string(res.path("experiments")));
                return 0;
            }
            List<List<String>> rows = new ArrayList<>();
            for (JsonNode e : res.path("experiments")) {
                rows.add(List.of(e.path("id").asText(), e.path("name").asText(), e.path("desired_state").asText(),
                        e.path("current_state").asText(), e.path("latest_epoch").isNumber()
                                ? e.path("latest_epoch").asText() : "-",
                        e.path("nodes").asInt() + "x" + e.path("gpus").asInt(),
                        e.path("status").path("state_reason").asText("")));
            }
            Output.table(out, List.of("ID", "NAME", "DESIRED", "CURRENT", "EPOCH", "NODESxGPUS", "REASON"), rows);
            return 0;
        }
    }

    /** {@code skydeck exp create}. */
    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create an experiment, or many from a JSON file (a list of experiment objects).")
    public static final class ExpCreate implements Callable<Integer> {
        @Mixin
        ClientOptions client = new ClientOptions();
        @Parameters(arity = "0..1", description = "The experiment's name.")
        String name;
        @Option(names = "--flag", description = "A flag key=value (repeatable); true/false, integers and decimals are typed.")
        List<String> flags = new ArrayList<>();
        @Option(names = "--command", description = "The base command (default lt).")
        String command;
        @Option(names = "--tool", description = "The tool path.")
        String tool;
        @Option(names = "--branch", description = "The git branch.")
        String branch;
        @Option(names = "--nodes", description = "Nodes (default 1).")
        Integer nodes;
        @Option(names = "--gpus", description = "GPUs per node (default 0).")
        Integer gpus;
        @Option(names = "--cloud", description = "Cloud.")
        String cloud;
        @Option(names = "--region", description = "Region.")
        String region;
        @Option(names = "--instance-type", description = "Instance type.")
        String instanceType;
        @Option(names = "--spot", description = "Use spot capacity.")
        boolean spot;
        @Option(names = "--start", description = "Start it at once.")
        boolean start;
        @Option(names = "--file", description = "Create every experiment of this JSON file (a list of objects).")
        Path file;
        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            ApiClient api = client.client();
            PrintWriter out = spec.commandLine().getOut();
            if (file != null) {
                return fromFile(api, out);
            }
            if (name == null) {
                throw new SkyDeckException.InvalidInput("give the experiment a name (or --file with many)");
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("name", name);
            Map<String, Object> parsed = new LinkedHashMap<>();
            for (String f : flags) {
                int eq = f.indexOf('=');
                if (eq <= 0) {
                    throw new SkyDeckException.InvalidInput("--flag '" + f + "' is not key=value");
                }
                parsed.put(f.substring(0, eq), typed(f.substring(0, eq), f.substring(eq + 1)));
            }
            body.put("flags", parsed);
            putIf(body, "base_command", command);
            putIf(body, "tool_path", tool);
            putIf(body, "git_branch", branch);
            putIf(body, "nodes", nodes);
            putIf(body, "gpus", gpus);
            if (cloud != null || region != null || instanceType != null || spot) {
                Map<String, Object> r = new LinkedHashMap<>();
                putIf(r, "cloud", cloud);
                putIf(r, "region", region);
                putIf(r, "instance_type", instanceType);
                r.put("spot", spot);
                body.put("resources", r);
            }
            if (start) {
                body.put("desired_state", "RUNNING");
            }
            JsonNode e = api.post("/api/experiments", body).path("experiment");
            if (client.json) {
                out.println(Json.string(e));
            } else {
                out.println("created " + e.path("name").asText() + " (id " + e.path("id").asText() + ", "
                        + e.path("desired_state").asText() + ")");
                out.println("  " + e.path("command").asText());
            }
            return 0;
        }

        private int fromFile(ApiClient api, PrintWriter out) throws IOException {
            JsonNode all = Json.MAPPER.readTree(Files.readAllBytes(file));
            if (!all.isArray()) {
                throw new SkyDeckException.InvalidInput(file + " must hold a JSON list of experiment objects");
            }
            Output.Progress progress = new Output.Progress(new PrintWriter(System.err, true), "creating", terminal());
            ArrayNode created = Json.MAPPER.createArrayNode();
            int batch = 500;
            for (int i = 0; i < all.size(); i += batch) {
                ArrayNode chunk = Json.MAPPER.createArrayNode();
                for (int j = i; j < Math.min(all.size(), i + batch); j++) {
                    chunk.add(all.get(j));
                }
                created.addAll((ArrayNode) api.post("/api/experiments", Map.of("experiments", chunk))
                        .path("experiments"));
                progress.update(created.size(), all.size());
            }
            if (client.json) {
                out.println(Json.string(created));
            } else {
                out.println("created " + created.size() + " experiments");
            }
            return 0;
        }

        private static void putIf(Map<String, Object> m, String k, Object v) {
            if (v != null) {
                m.put(k, v);
            }
        }

        /**
         * A flag value typed as written: {@code true}/{@code false}, a whole number (a long: one
         * that does not fit in 64 bits is refused, never silently made a double), a decimal (kept
         * a double: {@code 3.0} stays {@code 3.0}), else a string.
         */
        static Object typed(String key, String v) {
            if (v.equals("true") || v.equals("false")) {
                return Boolean.parseBoolean(v);
            }
            if (v.matches("-?[0-9]+")) {
                java.math.BigInteger n = new java.math.BigInteger(v);
                if (n.bitLength() >= 64) {
                    throw new SkyDeckException.InvalidInput("--flag " + key + "=" + v + " is out of range: whole numbers"
                            + " must fit in 64 bits (-9223372036854775808 to 9223372036854775807); write " + v
                            + ".0 for a decimal, or quote it in a --file for a string");
                }
                return n.longValue();
            }
            if (v.matches("-?([0-9]+\\.[0-9]*|\\.[0-9]+|[0-9]+)([eE][-+]?[0-9]+)?")) {
                double d = Double.parseDouble(v);
                if (!Double.isFinite(d)) {
                    throw new SkyDeckException.InvalidInput("--flag " + key + "=" + v + " is out of range for a decimal");
                }
                return d;
            }
            return v;
        }
    }

    /** A bulk action over experiments named on the command line. */
    abstract static class Bulk implements Callable<Integer> {
        @Mixin
        ClientOptions client = new ClientOptions();
        @Parameters(arity = "1..*", description = "Experiment ids or names.")
        List<String> refs = new ArrayList<>();
        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        abstract String action();

        boolean waitRequested() {
            return false;
        }

        Duration timeout() {
            return Duration.ofMinutes(10);
        }

        @Override
        public Integer call() {
            ApiClient api = client.client();
            PrintWriter out = spec.commandLine().getOut();
            List<Object> ids = new ArrayList<>();
            for (String r : refs) {
                ids.add(r.matches("[0-9]{1,18}") ? (Object) Long.parseLong(r) : r);
            }
            JsonNode res = api.post("/api/experiments/bulk", Map.of("action", action(), "ids", ids));
            boolean allOk = res.path("failed").asLong() == 0;
            if (client.json && !waitRequested()) {
                out.println(Json.string(res));
                return allOk ? 0 : 1;
            }
            if (!client.json) {
                List<List<String>> rows = new ArrayList<>();
                for (JsonNode item : res.path("results")) {
                    rows.add(List.of(item.path("ref").asText(item.path("id").asText()),
                            item.path("ok").asBoolean() ? "ok" : "FAILED", item.path("detail").asText()));
                }
                Output.table(out, List.of("EXPERIMENT", "RESULT", "DETAIL"), rows);
            }
            if (waitRequested() && allOk) {
                JsonNode last = await(api, ids);
                if (client.json) {
                    out.println(Json.string(last.path("experiments")));
                } else {
                    for (JsonNode e : last.path("experiments")) {
                        out.println(e.path("name").asText() + ": " + e.path("current_state").asText());
                    }
                }
            }
            return allOk ? 0 : 1;
        }

        private JsonNode await(ApiClient api, List<Object> ids) {
            Output.Progress progress = new Output.Progress(new PrintWriter(System.err, true), "settling", terminal());
            Instant deadline = Instant.now().plus(timeout());
            while (true) {
                JsonNode r = api.post("/api/waits/experiments", Map.of("ids", ids, "timeout_seconds", 30));
                long settled = 0;
                for (JsonNode e : r.path("experiments")) {
                    settled += e.path("status").path("settled").asBoolean() ? 1 : 0;
                }
                progress.update(settled, ids.size());
                if (r.path("settled").asBoolean()) {
                    return r;
                }
                if (Instant.now().isAfter(deadline)) {
                    throw new SkyDeckException("gave up waiting after " + timeout().toSeconds() + " s: "
                            + settled + " of " + ids.size() + " settled");
                }
            }
        }
    }

    /** {@code skydeck exp start}. */
    @Command(name = "start", mixinStandardHelpOptions = true, description = "Set experiments RUNNING.")
    public static final class ExpStart extends WaitingBulk {
        @Override
        String action() {
            return "start";
        }
    }

    /** A bulk action that can wait for the experiments to settle ({@code --wait}, {@code --timeout}). */
    abstract static class WaitingBulk extends Bulk {
        @Option(names = "--wait", description = "Wait until they settle (their jobs end).")
        boolean await;
        @Option(names = "--timeout", description = "Seconds to wait at most (default 600).")
        int seconds = 600;

        @Override
        boolean waitRequested() {
            return await;
        }

        @Override
        Duration timeout() {
            return Duration.ofSeconds(seconds);
        }
    }

    /** {@code skydeck exp stop}. */
    @Command(name = "stop", mixinStandardHelpOptions = true, description = "Set experiments STOPPED (cancels their jobs).")
    public static final class ExpStop extends Bulk {
        @Option(names = "--wait", description = "Wait until their jobs have ended.")
        boolean await;

        @Override
        String action() {
            return "stop";
        }

        @Override
        boolean waitRequested() {
            return await;
        }
    }

    /** {@code skydeck exp restart}. */
    @Command(name = "restart", mixinStandardHelpOptions = true,
            description = "Run experiments anew (a new generation): the active job is cancelled, then one is launched.")
    public static final class ExpRestart extends WaitingBulk {
        @Override
        String action() {
            return "restart";
        }
    }

    /** {@code skydeck apply FILE}. */
    @Command(name = "apply", mixinStandardHelpOptions = true,
            description = "Make the experiments match a YAML or JSON file (a list of experiment objects, or"
                    + " {experiments: [...]}): create what is missing, update what changed, leave the rest alone."
                    + " Running experiments are not relaunched; applying the same file twice changes nothing.")
    public static final class Apply implements Callable<Integer> {
        @Mixin
        ClientOptions client = new ClientOptions();
        @Parameters(arity = "1", description = "The file (.yaml, .yml or .json; - for standard input as YAML or JSON).")
        String file;
        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            byte[] bytes = file.equals("-") ? System.in.readAllBytes() : Files.readAllBytes(Path.of(file));
            JsonNode doc = ApplyFile.read(file, bytes);
            JsonNode res = client.client().post("/api/experiments/apply", Map.of("experiments", doc));
            PrintWriter out = spec.commandLine().getOut();
            if (client.json) {
                out.println(Json.string(res));
                return 0;
            }
            List<List<String>> rows = new ArrayList<>();
            for (JsonNode r : res.path("results")) {
                List<String> changed = new ArrayList<>();
                r.path("changed").forEach(c -> changed.add(c.asText()));
                rows.add(List.of(r.path("name").asText(), r.path("outcome").asText(), String.join(", ", changed),
                        r.path("experiment").path("drifted").asBoolean() ? "running an older configuration: restart"
                                + " to apply" : ""));
            }
            Output.table(out, List.of("EXPERIMENT", "OUTCOME", "CHANGED", "NOTE"), rows);
            out.println(res.path("created").asLong() + " created, " + res.path("updated").asLong() + " updated, "
                    + res.path("unchanged").asLong() + " unchanged");
            return 0;
        }
    }

    /** {@code skydeck exp delete}. */
    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = "Delete experiments (soft: their history stays; undelete through the API or dashboard).")
    public static final class ExpDelete extends Bulk {
        @Override
        String action() {
            return "delete";
        }
    }

    /** {@code skydeck jobs}. */
    @Command(name = "jobs", mixinStandardHelpOptions = true, description = "List jobs, newest first.")
    public static final class Jobs implements Callable<Integer> {
        @Mixin
        ClientOptions client = new ClientOptions();
        @Option(names = "--active", description = "Only jobs that have not ended.")
        boolean active;
        @Option(names = "--experiment", description = "Only this experiment's jobs (id or name).")
        String experiment;
        @Option(names = "--limit", description = "At most this many (default 100).")
        int limit = 100;
        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            StringBuilder path = new StringBuilder("/api/jobs?limit=" + limit);
            if (active) {
                path.append("&active=true");
            }
            if (experiment != null) {
                path.append("&experiment=").append(ApiClient.q(experiment));
            }
            JsonNode res = client.client().get(path.toString());
            PrintWriter out = spec.commandLine().getOut();
            if (client.json) {
                out.println(Json.string(res.path("jobs")));
                return 0;
            }
            List<List<String>> rows = new ArrayList<>();
            for (JsonNode j : res.path("jobs")) {
                rows.add(List.of(j.path("id").asText(), j.path("experiment_name").asText(), j.path("status").asText(),
                        j.path("backend").asText() + ":" + j.path("backend_job_id").asText("-"),
                        localTime(j.path("started_at").asText(null)), j.path("exit_code").isNumber()
                                ? j.path("exit_code").asText() : "-"));
            }
            Output.table(out, List.of("JOB", "EXPERIMENT", "STATUS", "BACKEND JOB", "STARTED", "EXIT"), rows);
            return 0;
        }
    }

    /** An API time as local {@code YYYY-MM-DD HH:mm:ss}, the dashboard's format. */
    static String localTime(String iso) {
        if (iso == null) {
            return "-";
        }
        try {
            return java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss")
                    .format(Instant.parse(iso).atZone(java.time.ZoneId.systemDefault()));
        } catch (java.time.DateTimeException e) {
            return iso;
        }
    }

    /** {@code skydeck backfill}. */
    @Command(name = "backfill", mixinStandardHelpOptions = true,
            description = "Re-scan every experiment's checkpoints (after a bucket was filled by hand, say).")
    public static final class Backfill implements Callable<Integer> {
        @Mixin
        ClientOptions client = new ClientOptions();
        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            Output.Progress progress = new Output.Progress(new PrintWriter(System.err, true), "backfill", terminal());
            PrintWriter out = spec.commandLine().getOut();
            long[] changed = {-1};
            client.client().postLines("/api/backfill", Map.of(), line -> {
                try {
                    JsonNode n = Json.MAPPER.readTree(line);
                    if (n.has("total")) {
                        progress.update(n.path("done").asLong(), n.path("total").asLong());
                    } else if (n.path("finished").asBoolean()) {
                        changed[0] = n.path("checkpoints").asLong();
                    } else if (n.has("finished")) {
                        throw new SkyDeckException("the backfill failed: " + n.path("detail").asText());
                    }
                } catch (IOException e) {
                    throw new SkyDeckException("unexpected answer from the server: " + line);
                }
            });
            if (changed[0] < 0) {
                throw new SkyDeckException("the backfill ended early: see `skydeck logs`");
            }
            out.println(client.json ? Json.string(Map.of("checkpoints", changed[0]))
                    : "backfill done: " + changed[0] + " checkpoints added or changed");
            return 0;
        }
    }
}
