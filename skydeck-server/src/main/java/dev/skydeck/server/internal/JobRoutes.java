package dev.skydeck.server.internal;

import static dev.skydeck.server.internal.Http.boolParam;
import static dev.skydeck.server.internal.Http.intParam;
import static dev.skydeck.server.internal.Http.json;
import static dev.skydeck.server.internal.Http.optionalBody;
import static dev.skydeck.server.internal.Http.textParam;

import dev.skydeck.Job;
import dev.skydeck.JobQuery;
import dev.skydeck.Page;
import dev.skydeck.SkyDeck;
import dev.skydeck.server.internal.Views.JobView;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** {@code /api/jobs/**}. */
public final class JobRoutes {
    private final SkyDeck deck;
    private final ExperimentRoutes experiments;
    private final Streams streams;
    private final StreamLimits limits;

    /** Routes over {@code deck}; log follows are tracked in {@code streams} and take a place in {@code limits}. */
    public JobRoutes(SkyDeck deck, ExperimentRoutes experiments, Streams streams, StreamLimits limits) {
        this.deck = deck;
        this.experiments = experiments;
        this.streams = streams;
        this.limits = limits;
    }

    /** Declares the routes. */
    public void register(Http http) {
        http.get("/api/jobs", this::list);
        http.get("/api/jobs/{id}", ctx -> json(ctx, Map.of("job", JobView.of(deck.job(ctx.pathParam("id"))))));
        http.post("/api/jobs/{id}/cancel", ctx -> {
            Job job = deck.job(ctx.pathParam("id"));
            optionalBody(ctx).finish();
            json(ctx, Map.of("job", JobView.of(Users.acting(ctx, deck).cancel(job))));
        });
        http.get("/api/jobs/{id}/logs", this::logs);
    }

    private void list(Context ctx) {
        String experiment = textParam(ctx, "experiment");
        String name = experiment == null ? null : experiments.resolve(experiment).name();
        Page<Job> page = deck.jobs(new JobQuery(textParam(ctx, "q"), boolParam(ctx, "active"),
                boolParam(ctx, "orphaned"), name, intParam(ctx, "limit", 100, 1, 10_000),
                intParam(ctx, "offset", 0, 0, Integer.MAX_VALUE)).withLaunchedBy(Users.filter(ctx, deck, "launched_by")));
        ctx.header("X-Total-Count", Long.toString(page.total()));
        json(ctx, Map.of("jobs", JobView.of(page.items())));
    }

    private void logs(Context ctx) throws IOException {
        Job job = deck.job(ctx.pathParam("id"));
        int tail = intParam(ctx, "tail", 0, 0, 1_000_000);
        boolean follow = Boolean.TRUE.equals(boolParam(ctx, "follow"));
        Boolean controller = boolParam(ctx, "controller");
        StreamLimits.Permit permit = follow ? limits.acquire(ctx, "log follow") : null;
        Reader reader;
        try {
            reader = controller != null && controller ? deck.controllerLogs(job, tail, follow)
                    : deck.logs(job, tail, follow);
        } catch (RuntimeException e) {
            if (permit != null) {
                permit.close();
            }
            throw e;
        }
        ctx.status(200).contentType("text/plain; charset=utf-8");
        ctx.header("Cache-Control", "no-store");
        ctx.header("X-Accel-Buffering", "no");
        if (!follow) {
            copy(ctx, reader);
            return;
        }
        // a follow waits on its log for as long as the job runs: on a reader thread, not a server one
        CompletableFuture<Void> copied;
        try {
            copied = streams.follow(reader, () -> copy(ctx, reader));
        } catch (RuntimeException e) {
            permit.close();
            throw e;
        }
        copied.whenComplete((v, e) -> permit.close());
        ctx.future(() -> {
            ctx.req().getAsyncContext().setTimeout(0);
            return copied.exceptionally(e -> null);
        });
    }

    private void copy(Context ctx, Reader reader) {
        try (AutoCloseable ignored = streams.open(reader);
             Writer out = new OutputStreamWriter(ctx.res().getOutputStream(), StandardCharsets.UTF_8)) {
            char[] buffer = new char[8192];
            int n;
            while ((n = reader.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
                if (!reader.ready()) {
                    out.flush();
                }
            }
        } catch (IOException e) {
            // the client went away or the server is stopping: nothing more to send
        } catch (ApiException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
