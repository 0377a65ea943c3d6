package dev.skydeck.server.internal;

import static dev.skydeck.server.internal.Http.body;
import static dev.skydeck.server.internal.Http.intParam;
import static dev.skydeck.server.internal.Http.json;
import static dev.skydeck.server.internal.Http.optionalBody;
import static dev.skydeck.server.internal.Http.textParam;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.skydeck.EventQuery;
import dev.skydeck.FlagSchema;
import dev.skydeck.GpuCatalog;
import dev.skydeck.GpuType;
import dev.skydeck.SkyDeck;
import dev.skydeck.SkyDeckException;
import dev.skydeck.server.internal.Views.EventView;
import dev.skydeck.server.internal.Views.FlagView;
import dev.skydeck.server.internal.Views.HealthView;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Health, who am I, flags, GPU types, settings, the operations log, refresh/reconcile, backfill and links. */
public final class SystemRoutes {
    private final SkyDeck deck;
    private final ExperimentRoutes experiments;
    private final List<Link> links;
    private final Clock clock;
    private final Instant startedAt;
    private final Users users;

    /** One link pill of the dashboard: {@code {name}} in the template becomes the experiment's name. */
    public record Link(String label, String urlTemplate) {
    }

    /** Routes over {@code deck}. */
    public SystemRoutes(SkyDeck deck, ExperimentRoutes experiments, List<Link> links, Clock clock, Users users) {
        this.deck = deck;
        this.users = users;
        this.experiments = experiments;
        this.links = List.copyOf(links);
        this.clock = clock;
        this.startedAt = clock.instant();
    }

    /** Declares the routes. */
    public void register(Http http) {
        http.get("/api/health", ctx -> {
            Instant now = clock.instant();
            json(ctx, HealthView.of(deck.health(), now, Duration.between(startedAt, now).toMillis() / 1000.0));
        });
        http.get("/api/flag-schemas", ctx -> json(ctx, flags(null)));
        http.get("/api/flags", ctx -> json(ctx, flags(textParam(ctx, "tool_path"))));
        http.get("/api/gpu-types", this::gpuTypes);
        http.get("/api/links", ctx -> json(ctx, Map.of("links", links)));
        http.get("/api/me", ctx -> json(ctx, new Views.MeView(Users.user(ctx) != null ? Users.user(ctx)
                : deck.user(), users.required())));
        http.post("/api/refresh", ctx -> {
            optionalBody(ctx).finish();
            try {
                deck.poll();
                json(ctx, Map.of("refreshed", true));
            } catch (SkyDeckException.Conflict e) {
                if (e.reason() != SkyDeckException.Conflict.Reason.NOT_LEADER) {
                    throw e;
                }
                // behind a load balancer: the process that drives the engine polls; this one only serves
                json(ctx, Map.of("refreshed", false, "detail", e.getMessage()));
            }
        });
        http.post("/api/reconcile", ctx -> {
            optionalBody(ctx).finish();
            Users.acting(ctx, deck).reconcileAll();
            json(ctx, Map.of("reconciling", true));
        });
        http.post("/api/backfill", this::backfill);
        http.get("/api/operation-logs", this::operations);
        http.get("/api/settings/{key}", this::getSetting);
        http.post("/api/settings/{key}", this::putSetting);
    }

    private Map<String, Object> flags(String toolPath) {
        FlagSchema schema = deck.flagSchema(toolPath);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("tool_path", toolPath);
        out.put("flags", schema.flags().values().stream().map(FlagView::of).toList());
        return out;
    }

    private void gpuTypes(Context ctx) {
        String type = textParam(ctx, "instance_type");
        Map<String, Object> out = new LinkedHashMap<>();
        if (type == null) {
            out.put("providers", GpuCatalog.providers());
        } else {
            Optional<GpuType> gpu = deck.gpuType(type);
            out.put("instance_type", type);
            out.put("gpu", gpu.orElse(null));
            out.put("cloud", GpuCatalog.cloud(type).orElse(null));
        }
        json(ctx, out);
    }

    private void operations(Context ctx) {
        String experiment = textParam(ctx, "experiment");
        Long experimentId = experiment == null ? null : experiments.resolve(experiment).id();
        Long after = Http.seqParam(ctx, "after_seq");
        // without after_seq: the newest events (a log view); with it: what came after, oldest first (paging)
        json(ctx, Map.of("events", EventView.of(deck.events(new EventQuery(after == null ? 0 : after, experimentId,
                intParam(ctx, "limit", 200, 1, 10_000), after == null)))));
    }

    private void getSetting(Context ctx) throws JsonProcessingException {
        String key = ctx.pathParam("key");
        String stored = deck.setting(key).orElseThrow(() -> new SkyDeckException.NotFound("no setting '" + key + "'"));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("key", key);
        out.put("value", Json.MAPPER.readTree(stored));
        json(ctx, out);
    }

    private void putSetting(Context ctx) {
        String key = ctx.pathParam("key");
        Body b = body(ctx);
        if (!b.has("value") || b.raw("value") == null) {
            throw ApiException.badRequest("field 'value' is required: any JSON value but null");
        }
        JsonNode value = b.raw("value");
        b.finish();
        Users.acting(ctx, deck).putSetting(key, Json.string(value));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("key", key);
        out.put("value", value);
        json(ctx, out);
    }

    /** Streams progress as JSON lines ({@code {"done":…,"total":…}}), then the result. */
    private void backfill(Context ctx) throws IOException {
        optionalBody(ctx).finish();
        ctx.status(200).contentType("application/x-ndjson");
        ctx.header("Cache-Control", "no-store");
        OutputStream out = ctx.res().getOutputStream();
        int[] last = {-1};
        int changed;
        try {
            changed = Users.acting(ctx, deck).backfillCheckpoints((done, total) -> {
            if (done == total || done - last[0] >= Math.max(1, total / 100)) {
                last[0] = done;
                try {
                    out.write((Json.string(Map.of("done", done, "total", total)) + "\n").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
            });
        } catch (java.io.UncheckedIOException e) {
            return; // the client went away
        } catch (RuntimeException e) {
            // the status line is sent already: report the failure as the stream's last line
            org.slf4j.LoggerFactory.getLogger(SystemRoutes.class).warn("checkpoint backfill failed: {}", e.toString());
            out.write((Json.string(Map.of("finished", false, "detail", String.valueOf(e.getMessage()))) + "\n")
                    .getBytes(StandardCharsets.UTF_8));
            out.flush();
            return;
        }
        out.write((Json.string(Map.of("finished", true, "checkpoints", changed)) + "\n")
                .getBytes(StandardCharsets.UTF_8));
        out.flush();
    }
}
