package dev.skydeck.jdbc.internal;

import dev.skydeck.ApiToken;
import dev.skydeck.Checkpoint;
import dev.skydeck.DesiredState;
import dev.skydeck.Event;
import dev.skydeck.EventQuery;
import dev.skydeck.EventType;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentFacets;
import dev.skydeck.ExperimentQuery;
import dev.skydeck.GroupSummary;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.ExperimentStatus;
import dev.skydeck.Group;
import dev.skydeck.Job;
import dev.skydeck.JobQuery;
import dev.skydeck.JobStage;
import dev.skydeck.JobStatus;
import dev.skydeck.Page;
import dev.skydeck.Resources;
import dev.skydeck.RestartPolicy;
import dev.skydeck.SkyDeckException;
import dev.skydeck.SkyDeckException.Conflict.Reason;
import dev.skydeck.Actor;
import dev.skydeck.JobCancel;
import dev.skydeck.jdbc.Dialect;
import dev.skydeck.jdbc.SqlDatabase;
import dev.skydeck.spi.Lease;
import dev.skydeck.spi.StoreTx;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Every SQL statement of the SQL store, on one {@link Session}: the reads (in a read transaction
 * or a write one) and the writes (inside a write transaction). Each method runs a constant number
 * of statements whatever the number of rows involved. Expected conflicts (a taken name, a second
 * active launch) are found without a failing statement, so a transaction stays usable on
 * databases that abort one on its first error.
 */
public final class StoreSql implements StoreTx {
    private final Session session;
    private final SqlDatabase database;
    private final Statements statements;
    /** The specs read before, used by read transactions only ({@code null} in a write one: see {@link SpecCache}). */
    private final SpecCache specs;
    /** The highest event number once this transaction has appended (writers are serialised, so it stays exact). */
    private long lastAppended = -1;

    /** Statements over {@code session}; SQL failures are translated by {@code database}. */
    StoreSql(Session session, SqlDatabase database, Statements statements, boolean read) {
        this.session = session;
        this.database = database;
        this.statements = statements;
        this.specs = read ? statements.specs : null;
    }

    /** Runs {@code work} in a write transaction of {@code database}, counting statements in {@code statements}. */
    public static <T> T inWrite(SqlDatabase database, Statements statements, StatementCounter counter, Function<StoreTx, T> work) {
        return database.write(connection -> {
            try (Session session = Session.open(connection, counter, statements.kept)) {
                StoreSql tx = new StoreSql(session, database, statements, false);
                T result = work.apply(tx);
                tx.finish();
                return result;
            }
        });
    }

    /** Runs {@code work} in a read transaction of {@code database}. */
    public static <T> T inRead(SqlDatabase database, Statements statements, StatementCounter counter, Function<StoreSql, T> work) {
        return database.read(connection -> {
            try (Session session = Session.open(connection, counter, statements.kept)) {
                return work.apply(new StoreSql(session, database, statements, true));
            }
        });
    }

    private void finish() throws SQLException {
        String wake = statements.dialect.afterEventsAppended();
        if (lastAppended >= 0 && wake != null) {
            session.control(wake);
        }
    }

    @FunctionalInterface
    private interface Work<T> {
        T run() throws SQLException;
    }

    private <T> T sql(Work<T> work) {
        try {
            return work.run();
        } catch (SQLException e) {
            throw database.translate(e);
        }
    }

    // ---- reads ----

    @Override
    public Optional<Experiment> experiment(long id) {
        return sql(() -> session.first(statements.selectExperiments + " WHERE e.id = ?", this::experimentRow, id));
    }

    @Override
    public Optional<Experiment> experimentByName(String name) {
        return sql(() -> session.first(statements.selectExperiments + " WHERE e.name = ? AND e.deleted" + statements.isFalse,
                this::experimentRow, name));
    }

    @Override
    public List<Experiment> experiments(Collection<Long> ids) {
        if (ids.isEmpty()) {
            return List.of();
        }
        return sql(() -> session.list(statements.selectExperiments + " WHERE e.id" + statements.idsIn,
                this::experimentRow, Json.write(ids.stream().distinct().toList())));
    }

    @Override
    public Map<String, Experiment> experimentsByName(Collection<String> names) {
        if (names.isEmpty()) {
            return Map.of();
        }
        List<Experiment> found = sql(() -> session.list(statements.selectExperiments
                + " WHERE e.deleted" + statements.isFalse + " AND e.name" + statements.namesIn, this::experimentRow,
                Json.write(names.stream().distinct().toList())));
        Map<String, Experiment> out = new HashMap<>();
        for (Experiment e : found) {
            out.put(e.name(), e);
        }
        return out;
    }

    /**
     * From how many matching experiments a page filtered by state follows its sort's index (and
     * checks each row's state) rather than reading every match from the state index to sort
     * them: reading and sorting this many rows costs about what a scan to the end of the sort's
     * index does at 100,000 experiments.
     */
    private static final long FOLLOW_SORT_FROM = 5_000;

    /** Whether {@code q} selects every live experiment: no filter (its sort and page do not matter). */
    private static boolean selectsEveryLive(ExperimentQuery q) {
        return !q.includeDeleted() && q.text() == null && q.states().isEmpty() && q.desired() == null && q.tag() == null
                && q.createdBy() == null && q.flagValues().isEmpty() && q.group() == null;
    }

    /**
     * How many experiments {@code q} matches, as one statement. Filtered by one flag alone (the
     * dashboard's "lr = 0.1", or "not set"), the trigger-kept counts of live experiments per flag
     * value and per flag answer it without reading an experiment; otherwise the matching rows are
     * counted.
     */
    private String count(ExperimentQuery q, String filter, List<Object> filterParams, List<Object> params) {
        ExperimentQuery unfiltered = q.flagValues().size() == 1
                ? q.withoutFlag(q.flagValues().keySet().iterator().next()) : null;
        if (unfiltered == null || !selectsEveryLive(unfiltered)) {
            params.addAll(filterParams);
            return "SELECT count(*) FROM experiments e" + filter;
        }
        Map.Entry<String, List<String>> flag = q.flagValues().entrySet().iterator().next();
        List<String> values = flag.getValue().stream().filter(v -> !v.equals(ExperimentQuery.MISSING)).toList();
        List<String> terms = new ArrayList<>();
        if (!values.isEmpty()) {
            terms.add("coalesce((SELECT sum(v.experiments) FROM flag_values v WHERE v.name = ? AND v.value_text IN ("
                    + Statements.marks(values.size()) + ")), 0)");
            params.add(flag.getKey());
            params.addAll(values);
        }
        if (values.size() < flag.getValue().size()) {
            // not set: every live experiment but those with the flag
            terms.add("(SELECT count(*) FROM experiments e WHERE e.deleted" + statements.isFalse + ")"
                    + " - coalesce((SELECT k.experiments FROM flag_names k WHERE k.name = ?), 0)");
            params.add(flag.getKey());
        }
        return terms.isEmpty() ? "SELECT 0" : "SELECT " + String.join(" + ", terms);
    }

    /** Which filter of a query a facet leaves out. */
    private enum Skip { NONE, STATES, DESIRED, FLAG }

    /** The conditions of {@code q} on experiments {@code e} (all but the one {@code skip} names), with their parameters. */
    private String where(ExperimentQuery q, Skip skip, String skipFlag, List<Object> params) {
        return where(q, skip, skipFlag, RowByRow.NONE, params);
    }

    /**
     * Which conditions a page checks on each row it reads while it follows its sort's index, rather
     * than finding their rows first: the states (off the state index), the text (not looked up in
     * the text index) and the flag values (each row's own flag looked up, not a list of every
     * experiment with the value built first).
     */
    private record RowByRow(boolean states, boolean text, boolean flags) {
        static final RowByRow NONE = new RowByRow(false, false, false);

        boolean any() {
            return states || text || flags;
        }
    }

    /** {@link #where(ExperimentQuery, Skip, String, List)}, the conditions {@code rowByRow} names checked row by row. */
    private String where(ExperimentQuery q, Skip skip, String skipFlag, RowByRow rowByRow, List<Object> params) {
        Dialect d = statements.dialect;
        List<String> where = new ArrayList<>();
        if (!q.includeDeleted()) {
            where.add("e.deleted" + statements.isFalse);
        }
        if (q.text() != null) {
            String indexed = rowByRow.text() ? null : d.textMatches("e.id", q.searchNeedle());
            where.add(indexed != null ? indexed : d.containsText("e.search_text"));
            params.add(q.searchNeedle());
        }
        if (skip != Skip.STATES && !q.states().isEmpty()) {
            where.add((rowByRow.states() ? d.offIndex("e.current_state") : "e.current_state") + " IN ("
                    + Statements.marks(q.states().size()) + ")");
            q.states().stream().map(Enum::name).sorted().forEach(params::add);
        }
        if (skip != Skip.DESIRED && q.desired() != null) {
            where.add("e.desired_state = ?");
            params.add(q.desired());
        }
        if (q.tag() != null) {
            where.add(d.jsonArrayContains("e.tags"));
            params.add(q.tag());
        }
        if (q.createdBy() != null) {
            where.add("e.created_by = ?");
            params.add(q.createdBy());
        }
        for (Map.Entry<String, List<String>> f : q.flagValues().entrySet()) {
            if (skip == Skip.FLAG && f.getKey().equals(skipFlag)) {
                continue;
            }
            List<String> values = f.getValue().stream().filter(v -> !v.equals(ExperimentQuery.MISSING)).toList();
            boolean missing = values.size() < f.getValue().size();
            List<String> either = new ArrayList<>();
            if (!values.isEmpty() && rowByRow.flags()) {
                either.add("EXISTS (SELECT 1 FROM experiment_flags f WHERE f.experiment_id = e.id AND f.name = ?"
                        + " AND f.value_text IN (" + Statements.marks(values.size()) + "))");
                params.add(f.getKey());
                params.addAll(values);
            } else if (!values.isEmpty()) {
                // "+e.id": a count (or page) scans the live experiments and probes the values' ids, instead
                // of reading each wide row the ids point to (SQLite; a no-op on PostgreSQL)
                either.add("+e.id IN (SELECT f.experiment_id FROM experiment_flags f WHERE f.name = ? AND f.value_text IN ("
                        + Statements.marks(values.size()) + "))");
                params.add(f.getKey());
                params.addAll(values);
            }
            if (missing && rowByRow.flags()) {
                either.add("NOT EXISTS (SELECT 1 FROM experiment_flags f WHERE f.experiment_id = e.id AND f.name = ?)");
                params.add(f.getKey());
            } else if (missing) {
                either.add("+e.id NOT IN (SELECT f.experiment_id FROM experiment_flags f WHERE f.name = ?)");
                params.add(f.getKey());
            }
            where.add(either.size() == 1 ? either.get(0) : "(" + String.join(" OR ", either) + ")");
        }
        if (q.group() != null && q.group() == ExperimentQuery.UNGROUPED) {
            where.add("e.id NOT IN (SELECT m.experiment_id FROM group_members m)");
        } else if (q.group() != null) {
            where.add("e.id IN (SELECT m.experiment_id FROM group_members m WHERE m.group_id = ?)");
            params.add(q.group());
        }
        return where.isEmpty() ? "" : " WHERE " + String.join(" AND ", where);
    }

    /**
     * One page in two steps within one statement: the ids of the page, found from the narrow
     * columns and indexes alone, then the full rows of those ids only.
     */
    @Override
    public Page<Experiment> experiments(ExperimentQuery q) {
        List<Object> keyParams = new ArrayList<>();
        String join = "";
        boolean desc = q.descending();
        String dir = desc ? " DESC" : "";
        // keys as (expression, descending); missing values last in both directions
        List<String[]> keys = new ArrayList<>();
        boolean groupOrder = q.sort() == ExperimentQuery.Sort.ORDER && q.group() != null
                && q.group() != ExperimentQuery.UNGROUPED;
        switch (q.sort()) {
            case ORDER -> {
                if (groupOrder) {
                    keys.add(new String[] {"(SELECT m.position FROM group_members m WHERE m.group_id = ?"
                            + " AND m.experiment_id = e.id)", dir});
                    keyParams.add(q.group());
                }
            }
            case NAME -> keys.add(new String[] {"e.name", dir});
            case CREATED_AT -> keys.add(new String[] {"e.created_at", dir});
            case UPDATED_AT -> keys.add(new String[] {"e.updated_at", dir});
            case PRIORITY -> keys.add(new String[] {"e.priority", dir});
            case STATE -> keys.add(new String[] {"e.current_state", dir});
            case EPOCH -> nullableKey(keys, "e.latest_epoch", desc);
            case STARTED_AT -> nullableKey(keys, "e.latest_started_at", desc);
            case FLAG -> {
                join = " LEFT JOIN experiment_flags sf ON sf.experiment_id = e.id AND sf.name = ?";
                keyParams.add(q.sortFlag());
                keys.add(new String[] {"(sf.experiment_id IS NULL)", ""});
                keys.add(new String[] {"(sf.value_num IS NULL)", dir});
                keys.add(new String[] {"sf.value_num", dir});
                keys.add(new String[] {"sf.value_text", dir});
            }
            default -> throw new IllegalStateException("unknown sort " + q.sort());
        }
        if (!groupOrder) {
            keys.add(new String[] {"e.sort_order", dir});
        }
        keys.add(new String[] {"e.id", dir});
        List<Object> filterParams = new ArrayList<>();
        String filter = where(q, Skip.NONE, null, filterParams);
        List<Object> countParams = new ArrayList<>();
        String count = count(q, filter, filterParams, countParams);
        // the count (from the state index) comes first: it says whether a page is left to read, and
        // whether so many match that the page is found sooner by following its sort's index than by
        // reading and sorting every matching row
        long total = sql(() -> session.number(count, countParams.toArray()));
        if (total <= q.offset()) {
            return new Page<>(List.of(), total);
        }
        boolean many = total >= FOLLOW_SORT_FROM;
        RowByRow rowByRow = new RowByRow(!q.states().isEmpty() && q.group() == null && many
                && q.sort() != ExperimentQuery.Sort.STATE
                && !(q.sort() == ExperimentQuery.Sort.ORDER && q.states().size() == 1),
                q.text() != null && many, !q.flagValues().isEmpty() && many);
        List<Object> pageFilterParams = rowByRow.any() ? new ArrayList<>() : filterParams;
        String pageFilter = rowByRow.any() ? where(q, Skip.NONE, null, rowByRow, pageFilterParams) : filter;
        if (q.sort() == ExperimentQuery.Sort.FLAG && many) {
            List<Object> params = new ArrayList<>();
            String page = flagSortedPage(q, pageFilter, pageFilterParams, params);
            return sql(() -> new Page<>(session.list(page, this::experimentRow, params.toArray()), total));
        }
        StringBuilder inner = new StringBuilder("SELECT e.id AS pid");
        StringBuilder innerOrder = new StringBuilder();
        StringBuilder outerOrder = new StringBuilder();
        for (int i = 0; i < keys.size(); i++) {
            inner.append(", ").append(keys.get(i)[0]).append(" AS k").append(i);
            innerOrder.append(i == 0 ? "" : ", ").append("k").append(i).append(keys.get(i)[1]);
            outerOrder.append(i == 0 ? "" : ", ").append("p.k").append(i).append(keys.get(i)[1]);
        }
        inner.append(" FROM experiments e").append(join).append(pageFilter).append(" ORDER BY ").append(innerOrder)
                .append(" LIMIT ? OFFSET ?");
        String page = statements.selectExperiments + " JOIN (" + inner + ") p ON p.pid = e.id ORDER BY " + outerOrder;
        List<Object> pageParams = new ArrayList<>(keyParams);
        pageParams.addAll(pageFilterParams);
        pageParams.add(q.limit());
        pageParams.add(q.offset());
        return sql(() -> new Page<>(session.list(page, this::experimentRow, pageParams.toArray()), total));
    }

    /**
     * A page sorted by a flag when many experiments match, read from the {@code experiment_flags_sort}
     * index (which holds the whole key: the flag's number, its text, the user's order, the id) rather
     * than by sorting every match: the matches that have the flag, in the index's order (forwards or
     * backwards) and no further than the page reaches; then, only when those fall short of the page,
     * the matches without the flag (last in either direction) in the user's order.
     */
    private String flagSortedPage(ExperimentQuery q, String filter, List<Object> filterParams,
            List<Object> params) {
        String dir = q.descending() ? " DESC" : "";
        String and = filter.isEmpty() ? " WHERE " : filter + " AND ";
        long reach = (long) q.offset() + q.limit();
        // CROSS JOIN: SQLite reads the flag rows first, in the index's order (PostgreSQL plans it as any join)
        String have = "SELECT f.experiment_id AS pid, 0 AS k0, (f.value_num IS NULL) AS k1, f.value_num AS k2,"
                + " f.value_text AS k3, f.sort_order AS k4, f.experiment_id AS k5"
                + " FROM experiment_flags f CROSS JOIN experiments e" + and + "e.id = f.experiment_id AND f.name = ?"
                + " ORDER BY (f.value_num IS NULL)" + dir + ", f.value_num" + dir + ", f.value_text" + dir
                + ", f.sort_order" + dir + ", f.experiment_id" + dir + " LIMIT ?";
        // the experiments without the flag: keys of the same types (and, on PostgreSQL, collation) as
        // the flag's, the same value on every row; a limit worked out before any row is read, 0 when
        // the page is full without them (a condition in the WHERE clause would be checked on every row
        // of a scan to the end)
        String none = "CASE WHEN e.id IS NULL THEN ";
        String without = "SELECT * FROM (SELECT e.id, 1, (e.id IS NULL), " + none + "e.latest_epoch END, " + none
                + "e.search_text END, e.sort_order, e.id FROM experiments e" + and
                + "NOT EXISTS (SELECT 1 FROM experiment_flags f WHERE f.experiment_id = e.id AND f.name = ?)"
                + " ORDER BY e.sort_order" + dir + ", e.id" + dir
                + " LIMIT CASE WHEN (SELECT count(*) FROM have) < ? THEN ? ELSE 0 END) AS w";
        String order = "k0, k1" + dir + ", k2" + dir + ", k3" + dir + ", k4" + dir + ", k5" + dir;
        String inner = "WITH have AS (" + have + ") SELECT * FROM have UNION ALL " + without + " ORDER BY " + order
                + " LIMIT ? OFFSET ?";
        params.addAll(filterParams);
        params.add(q.sortFlag());
        params.add(reach);
        params.addAll(filterParams);
        params.add(q.sortFlag());
        params.add(reach);
        params.add(reach);
        params.add(q.limit());
        params.add(q.offset());
        return statements.selectExperiments + " JOIN (" + inner + ") p ON p.pid = e.id ORDER BY "
                + order.replaceAll("k(\\d)", "p.k$1");
    }

    /**
     * A key that may be missing, last whichever the direction: written as the expressions of the
     * indexes {@code (k IS NULL, k, sort_order)} and {@code (k IS NOT NULL, k, sort_order)}, read
     * forwards and backwards.
     */
    private static void nullableKey(List<String[]> keys, String column, boolean desc) {
        if (desc) {
            keys.add(new String[] {"(" + column + " IS NOT NULL)", " DESC"});
            keys.add(new String[] {column, " DESC"});
        } else {
            keys.add(new String[] {"(" + column + " IS NULL)", ""});
            keys.add(new String[] {column, ""});
        }
    }

    @Override
    public ExperimentFacets experimentFacets(ExperimentQuery q, int maxValues) {
        List<Object> totalParams = new ArrayList<>();
        String total = "SELECT count(*) FROM experiments e" + where(q, Skip.NONE, null, totalParams);
        List<Object> stateParams = new ArrayList<>();
        String states = "SELECT e.current_state, count(*) FROM experiments e" + where(q, Skip.STATES, null, stateParams)
                + " GROUP BY e.current_state";
        List<Object> desiredParams = new ArrayList<>();
        String desired = "SELECT e.desired_state, count(*) FROM experiments e"
                + where(q, Skip.DESIRED, null, desiredParams) + " GROUP BY e.desired_state";
        List<Object> flagParams = new ArrayList<>();
        String flags;
        if (selectsEveryLive(q)) {
            // the whole deck: the trigger-kept counts, each flag's first values from their index
            flags = "SELECT k.name, v.value_text, v.experiments, k.vals, k.experiments FROM "
                    + statements.dialect.topFlagValues() + " ORDER BY k.name, v.experiments DESC, v.value_text";
        } else {
            // value counts per flag: the unfiltered flags under every filter, each filtered flag without its own
            // CROSS JOIN: SQLite reads the matching experiments first (from their narrow indexes) and
            // looks up each one's flags, rather than reading the wide experiment row of every flag row
            // (a flag's counts under state=FAILED: 240 -> 50 ms at 100,000 experiments)
            List<String> parts = new ArrayList<>();
            String all = where(q, Skip.NONE, null, flagParams);
            List<String> filtered = q.filteredFlags();
            String flagRows = "SELECT f.name, f.value_text, count(*) AS c FROM experiments e CROSS JOIN experiment_flags f";
            parts.add(flagRows + (all.isEmpty() ? " WHERE " : all + " AND ") + "f.experiment_id = e.id"
                    + (filtered.isEmpty() ? "" : " AND f.name NOT IN (" + Statements.marks(filtered.size()) + ")")
                    + " GROUP BY f.name, f.value_text");
            flagParams.addAll(filtered);
            for (String name : filtered) {
                String w = where(q, Skip.FLAG, name, flagParams);
                parts.add(flagRows + (w.isEmpty() ? " WHERE " : w + " AND ") + "f.experiment_id = e.id AND f.name = ?"
                        + " GROUP BY f.name, f.value_text");
                flagParams.add(name);
            }
            flags = "SELECT name, value_text, c, n, s FROM (SELECT name, value_text, c,"
                    + " row_number() OVER (PARTITION BY name ORDER BY c DESC, value_text) AS r,"
                    + " count(*) OVER (PARTITION BY name) AS n, sum(c) OVER (PARTITION BY name) AS s FROM ("
                    + String.join(" UNION ALL ", parts) + ") AS v) AS w WHERE r <= ? ORDER BY name, r";
        }
        flagParams.add(maxValues);
        return sql(() -> {
            long count = session.number(total, totalParams.toArray());
            Map<JobStatus, Long> byState = new java.util.EnumMap<>(JobStatus.class);
            for (Object[] row : session.list(states, rs -> new Object[] {rs.getString(1), rs.getLong(2)},
                    stateParams.toArray())) {
                byState.put(JobStatus.valueOf((String) row[0]), (Long) row[1]);
            }
            Map<DesiredState, Long> byDesired = new java.util.EnumMap<>(DesiredState.class);
            for (Object[] row : session.list(desired, rs -> new Object[] {rs.getString(1), rs.getLong(2)},
                    desiredParams.toArray())) {
                byDesired.put(DesiredState.valueOf((String) row[0]), (Long) row[1]);
            }
            List<ExperimentFacets.FlagFacet> facets = new ArrayList<>();
            String name = null;
            long distinct = 0;
            long having = 0;
            List<ExperimentFacets.ValueCount> values = new ArrayList<>();
            for (Object[] row : session.list(flags, rs -> new Object[] {rs.getString(1), rs.getString(2), rs.getLong(3),
                    rs.getLong(4), rs.getLong(5)}, flagParams.toArray())) {
                if (!row[0].equals(name)) {
                    if (name != null) {
                        facets.add(new ExperimentFacets.FlagFacet(name, having, distinct, distinct > values.size(),
                                values));
                    }
                    name = (String) row[0];
                    distinct = (Long) row[3];
                    having = (Long) row[4];
                    values = new ArrayList<>();
                }
                values.add(new ExperimentFacets.ValueCount((String) row[1], (Long) row[2]));
            }
            if (name != null) {
                facets.add(new ExperimentFacets.FlagFacet(name, having, distinct, distinct > values.size(), values));
            }
            return new ExperimentFacets(count, byState, byDesired, facets);
        });
    }

    @Override
    public GroupSummary.All groupSummaries() {
        String live = "e.deleted" + statements.isFalse;
        return sql(() -> {
            List<Group> groups = session.list("SELECT g.*, NULL AS members FROM experiment_groups g"
                    + " ORDER BY g.sort_order, g.id", StoreSql::groupRow);
            Map<Long, Map<JobStatus, Long>> states = new HashMap<>();
            for (Object[] row : session.list("SELECT m.group_id, e.current_state, count(*) FROM group_members m"
                    + " JOIN experiments e ON e.id = m.experiment_id WHERE " + live
                    + " GROUP BY m.group_id, e.current_state", rs -> new Object[] {rs.getLong(1), rs.getString(2),
                        rs.getLong(3)})) {
                states.computeIfAbsent((Long) row[0], k -> new java.util.EnumMap<>(JobStatus.class))
                        .put(JobStatus.valueOf((String) row[1]), (Long) row[2]);
            }
            Map<Long, List<Object[]>> flags = new HashMap<>();
            for (Object[] row : session.list("SELECT m.group_id, f.name, count(*), count(DISTINCT f.value_json),"
                    + " min(f.value_json) FROM group_members m JOIN experiments e ON e.id = m.experiment_id"
                    + " JOIN experiment_flags f ON f.experiment_id = e.id WHERE " + live
                    + " GROUP BY m.group_id, f.name", rs -> new Object[] {rs.getLong(1), rs.getString(2),
                        rs.getLong(3), rs.getLong(4), rs.getString(5)})) {
                flags.computeIfAbsent((Long) row[0], k -> new ArrayList<>()).add(row);
            }
            Map<JobStatus, Long> ungrouped = new java.util.EnumMap<>(JobStatus.class);
            for (Object[] row : session.list("SELECT e.current_state, count(*) FROM experiments e WHERE " + live
                    + " AND e.id NOT IN (SELECT m.experiment_id FROM group_members m) GROUP BY e.current_state",
                    rs -> new Object[] {rs.getString(1), rs.getLong(2)})) {
                ungrouped.put(JobStatus.valueOf((String) row[0]), (Long) row[1]);
            }
            List<GroupSummary> out = new ArrayList<>(groups.size());
            for (Group g : groups) {
                Map<JobStatus, Long> s = states.getOrDefault(g.id(), Map.of());
                long count = s.values().stream().mapToLong(Long::longValue).sum();
                Map<String, Object> common = new java.util.TreeMap<>();
                List<String> varying = new ArrayList<>();
                for (Object[] f : flags.getOrDefault(g.id(), List.of())) {
                    if ((Long) f[2] == count && (Long) f[3] == 1) {
                        common.put((String) f[1], Json.scalar((String) f[4]));
                    } else {
                        varying.add((String) f[1]);
                    }
                }
                out.add(new GroupSummary(g, count, s, common, varying));
            }
            return new GroupSummary.All(out, ungrouped.values().stream().mapToLong(Long::longValue).sum(), ungrouped);
        });
    }

    @Override
    public List<Long> experimentIdsToReconcile() {
        return sql(() -> session.list("SELECT e.id FROM experiments e WHERE e.deleted" + statements.isFalse + " OR EXISTS"
                + " (SELECT 1 FROM jobs j WHERE j.experiment_name = e.name AND j.active) ORDER BY e.id",
                rs -> rs.getLong(1)));
    }

    @Override
    public List<Long> experimentIdsUnsettled() {
        String live = "e.deleted" + statements.isFalse;
        return sql(() -> session.list("SELECT e.id FROM experiments e WHERE (" + live + " AND (e.settled"
                + statements.isFalse + " OR e.observed_generation IS NULL OR e.observed_generation <> e.generation"
                + " OR e.observed_desired IS NULL OR e.observed_desired <> e.desired_state)) OR EXISTS"
                + " (SELECT 1 FROM jobs j WHERE j.experiment_name = e.name AND j.active) ORDER BY e.id",
                rs -> rs.getLong(1)));
    }

    @Override
    public Optional<Job> job(String id) {
        return sql(() -> session.first("SELECT j.* FROM jobs j WHERE j.id = ?", StoreSql::jobRow, id));
    }

    @Override
    public Optional<Job> jobByLaunchId(String launchId) {
        return sql(() -> session.first("SELECT j.* FROM jobs j WHERE j.launch_id = ?", StoreSql::jobRow, launchId));
    }

    @Override
    public Map<String, Job> jobsByLaunchId(Collection<String> launchIds) {
        if (launchIds.isEmpty()) {
            return Map.of();
        }
        List<Job> found = sql(() -> session.list("SELECT j.* FROM jobs j WHERE j.launch_id" + statements.namesIn,
                StoreSql::jobRow, Json.write(launchIds.stream().distinct().toList())));
        Map<String, Job> out = new HashMap<>();
        for (Job j : found) {
            out.put(j.launchId(), j);
        }
        return out;
    }

    @Override
    public Map<String, Job> jobsByBackendId(String backend, Collection<String> backendJobIds) {
        if (backendJobIds.isEmpty()) {
            return Map.of();
        }
        List<Job> found = sql(() -> session.list("SELECT j.* FROM jobs j WHERE j.backend = ? AND j.backend_job_id"
                + statements.namesIn, StoreSql::jobRow, backend,
                Json.write(backendJobIds.stream().distinct().toList())));
        Map<String, Job> out = new HashMap<>();
        for (Job j : found) {
            out.put(j.backendJobId(), j);
        }
        return out;
    }

    @Override
    public Page<Job> jobs(JobQuery q) {
        List<String> where = new ArrayList<>();
        List<Object> params = new ArrayList<>();
        if (q.experimentName() != null) {
            where.add("j.experiment_name = ?");
            params.add(q.experimentName());
        }
        if (q.active() != null) {
            where.add(q.active() ? "j.active" : "NOT j.active");
        }
        if (q.launchedBy() != null) {
            where.add("j.launched_by = ?");
            params.add(q.launchedBy());
        }
        if (q.orphaned() != null) {
            where.add((q.orphaned() ? "NOT " : "")
                    + "EXISTS (SELECT 1 FROM experiments e WHERE e.name = j.experiment_name AND e.deleted"
                    + statements.isFalse + ")");
        }
        if (q.text() != null) {
            String text = q.text().toLowerCase(Locale.ROOT);
            Dialect d = statements.dialect;
            where.add("(" + d.containsText("lower(j.id)") + " OR " + d.containsText("lower(j.experiment_name)")
                    + " OR " + d.containsText("lower(coalesce(j.backend_job_id, ''))") + ")");
            params.add(text);
            params.add(text);
            params.add(text);
        }
        String filter = where.isEmpty() ? "" : " WHERE " + String.join(" AND ", where);
        List<Object> pageParams = new ArrayList<>(params);
        pageParams.add(q.limit());
        pageParams.add(q.offset());
        return sql(() -> {
            List<Job> items = session.list("SELECT j.* FROM jobs j" + filter + Statements.NEWEST_FIRST + " LIMIT ? OFFSET ?",
                    StoreSql::jobRow, pageParams.toArray());
            long total = session.number("SELECT count(*) FROM jobs j" + filter, params.toArray());
            return new Page<>(items, total);
        });
    }

    @Override
    public List<Job> activeJobs() {
        return sql(() -> session.list("SELECT j.* FROM jobs j WHERE j.active" + Statements.NEWEST_FIRST, StoreSql::jobRow));
    }

    @Override
    public ActiveJobs activeJobStats(String backend) {
        return sql(() -> session.first("SELECT count(*), count(CASE WHEN status IN ('INIT', 'PENDING', 'STARTING') THEN 1 END),"
                + " coalesce(sum(nodes * gpus), 0) FROM jobs WHERE active AND backend = ?",
                rs -> new ActiveJobs(rs.getLong(1), rs.getLong(2), rs.getLong(3)), backend).orElseThrow());
    }

    @Override
    public List<Job> orphanedCancels() {
        return sql(() -> session.list("SELECT j.* FROM jobs j WHERE j.active AND j.cancel_requested_at IS NOT NULL"
                + " AND NOT EXISTS (SELECT 1 FROM experiments e WHERE e.name = j.experiment_name AND e.deleted"
                + statements.isFalse + ")"
                + " ORDER BY j.cancel_requested_at, j.id", StoreSql::jobRow));
    }

    @Override
    public List<Group> groups() {
        return sql(() -> session.list(statements.selectGroups + " ORDER BY g.sort_order, g.id", StoreSql::groupRow));
    }

    @Override
    public Optional<Group> group(long id) {
        return sql(() -> session.first(statements.selectGroups + " WHERE g.id = ?", StoreSql::groupRow, id));
    }

    @Override
    public List<Checkpoint> checkpoints(long experimentId, int limit) {
        return sql(() -> session.list("SELECT * FROM checkpoints WHERE experiment_id = ? ORDER BY epoch DESC LIMIT ?",
                StoreSql::checkpointRow, experimentId, limit));
    }

    @Override
    public List<Event> events(EventQuery q) {
        String sql = "SELECT * FROM events WHERE seq > ?"
                + (q.experimentId() == null ? "" : " AND experiment_id = ?")
                + " ORDER BY seq" + (q.newestFirst() ? " DESC" : " ASC") + " LIMIT ?";
        Object[] params = q.experimentId() == null
                ? new Object[] {q.afterSeq(), q.limit()}
                : new Object[] {q.afterSeq(), q.experimentId(), q.limit()};
        return sql(() -> session.list(sql, StoreSql::eventRow, params));
    }

    @Override
    public long lastEventSeq() {
        return sql(() -> session.number("SELECT coalesce(max(seq), 0) FROM events"));
    }

    @Override
    public Optional<String> setting(String key) {
        return sql(() -> session.first("SELECT value FROM settings WHERE key = ?", rs -> rs.getString(1), key));
    }

    @Override
    public StoreCounts counts() {
        return sql(() -> session.first("SELECT (SELECT count(*) FROM experiments WHERE deleted" + statements.isFalse + "),"
                + " (SELECT count(*) FROM jobs WHERE active)", rs -> new StoreCounts(rs.getLong(1), rs.getLong(2)))
                .orElseThrow());
    }

    @Override
    public Optional<Lease> lease(String name) {
        return sql(() -> session.first("SELECT * FROM leases WHERE name = ?", StoreSql::leaseRow, name));
    }

    @Override
    public Optional<ApiToken> tokenByHash(String sha256Hex) {
        return sql(() -> session.first("SELECT * FROM api_tokens WHERE hash = ?", StoreSql::tokenRow, sha256Hex));
    }

    @Override
    public List<ApiToken> tokens() {
        return sql(() -> session.list("SELECT * FROM api_tokens ORDER BY created_at, id", StoreSql::tokenRow));
    }

    /** Whether experiments written before the flag index exist. */
    public boolean hasUnindexedRows() {
        return sql(() -> session.first("SELECT 1 FROM experiments WHERE flag_index IS NULL LIMIT 1", rs -> 1)
                .isPresent());
    }

    /** Gives experiments written before the flag index their flag rows (by trigger) and search text. */
    public void indexOlderRows() {
        List<Object[]> rows = sql(() -> session.list("SELECT id, name, description, flags FROM experiments"
                + " WHERE flag_index IS NULL", rs -> {
                    Map<String, Object> flags = Json.flags(rs.getString(4));
                    return new Object[] {flagIndex(flags), ExperimentQuery.searchText(rs.getString(2),
                            rs.getString(3), flags), rs.getLong(1)};
                }));
        sql(() -> {
            session.batch("UPDATE experiments SET flag_index = ?, search_text = ? WHERE id = ?", rows);
            return null;
        });
    }

    // ---- writes ----

    @Override
    public Experiment insertExperiment(ExperimentSpec spec, Instant now, String createdBy) {
        String startedBy = spec.desiredState() == DesiredState.RUNNING ? createdBy : null;
        Object[] params = concat(specParams(spec), Times.toNanos(now), Times.toNanos(now), createdBy, startedBy);
        // built from what we wrote, not read back: bulk inserts skip parsing the flags again
        Optional<Experiment> inserted = sql(() -> session.first(statements.insertExperiment, rs -> {
            JobStatus latest = enumOrNull(JobStatus.class, rs.getString(3));
            // a new experiment can have jobs already: jobs match by name and may predate it
            return new Experiment(rs.getLong(1), spec, false, rs.getInt(2), false, false, now, now, 1, 1,
                    ExperimentStatus.currentState(null, latest), ExperimentStatus.NEW, null, false, createdBy, startedBy);
        }, params));
        return inserted.orElseThrow(() -> nameTaken(spec.name()));
    }

    @Override
    public Experiment importExperiment(Experiment e) {
        Object[] params = concat(new Object[] {e.id()}, specParams(e.spec()));
        params = concat(params, e.starred(), e.order(), e.expanded(), e.deleted(), Times.toNanos(e.createdAt()),
                Times.toNanos(e.updatedAt()), e.version(), e.generation(), e.createdBy(), e.startedBy());
        Object[] all = params;
        Optional<Experiment> inserted = sql(() -> session.first(statements.importExperiment, this::experimentRow, all));
        if (inserted.isPresent()) {
            return inserted.get();
        }
        if (experiment(e.id()).isPresent()) {
            throw new SkyDeckException.Conflict(Reason.ALREADY_RECORDED, "experiment " + e.id() + " already exists");
        }
        throw nameTaken(e.name());
    }

    @Override
    public Experiment updateExperiment(Experiment changed, Instant now) {
        Object[] params = concat(specParams(changed.spec()), changed.starred(), changed.order(), changed.expanded(),
                changed.deleted(), changed.generation(), changed.startedBy(), Times.toNanos(now), changed.id(),
                changed.version(),
                changed.deleted(), changed.name(), changed.id());
        Optional<Experiment> written = sql(() -> session.first(statements.updateExperiment, this::experimentRow,
                params));
        if (written.isPresent()) {
            return written.get();
        }
        Optional<Long> stored = sql(() -> session.first("SELECT version FROM experiments WHERE id = ?",
                rs -> rs.getLong(1), changed.id()));
        if (stored.isEmpty()) {
            throw new SkyDeckException.NotFound("experiment " + changed.id() + " does not exist");
        }
        if (stored.get() == changed.version()) {
            throw nameTaken(changed.name());
        }
        throw new SkyDeckException.Conflict(Reason.STALE_VERSION, "experiment '" + changed.name()
                + "' was changed by someone else"
                + " (version " + changed.version() + " is stale, the current version is " + stored.get()
                + "): reload it and apply your change again");
    }

    private static SkyDeckException nameTaken(String name) {
        return new SkyDeckException.Conflict(Reason.NAME_TAKEN, "an experiment named '" + name
                + "' already exists: choose another name, or delete that experiment first");
    }

    @Override
    public void updateStatus(long experimentId, ExperimentStatus status) {
        int changed = sql(() -> session.update("UPDATE experiments SET stage = ?, state_reason = ?,"
                + " observed_generation = ?, observed_desired = ?, launch_retries = ?, next_attempt_at = ?, settled = ?"
                + " WHERE id = ?", status.stage(), status.stateReason(), status.observedGeneration(),
                status.observedDesired(), status.launchRetries(), Times.toNanos(status.nextAttemptAt()),
                status.settled(), experimentId));
        if (changed == 0) {
            throw new SkyDeckException.NotFound("experiment " + experimentId + " does not exist");
        }
    }

    @Override
    public void updatePresentation(long experimentId, boolean starred, boolean expanded, int order) {
        int changed = sql(() -> session.update("UPDATE experiments SET starred = ?, expanded = ?, sort_order = ?"
                + " WHERE id = ?", starred, expanded, order, experimentId));
        if (changed == 0) {
            throw new SkyDeckException.NotFound("experiment " + experimentId + " does not exist");
        }
    }

    @Override
    public void reorderExperiments(List<Long> ids) {
        List<Object[]> rows = new ArrayList<>(ids.size());
        for (int i = 0; i < ids.size(); i++) {
            rows.add(new Object[] {i, ids.get(i)});
        }
        sql(() -> {
            session.batch("UPDATE experiments SET sort_order = ? WHERE id = ?", rows);
            return null;
        });
    }

    @Override
    public Job insertJob(Job job) {
        int inserted = sql(() -> session.update(statements.insertJob, jobParams(job)));
        if (inserted == 1) {
            return job;
        }
        // nothing inserted: say which unique rule the job broke
        List<Job> clashes = sql(() -> session.list("SELECT j.* FROM jobs j WHERE j.id = ? OR j.launch_id = ?"
                + " OR (j.experiment_name = ? AND j.active AND j.launch_id IS NOT NULL)", StoreSql::jobRow, job.id(),
                job.launchId(), job.experimentName()));
        for (Job other : clashes) {
            if (other.id().equals(job.id())) {
                throw new SkyDeckException.Conflict(Reason.ALREADY_RECORDED, "job " + job.id() + " already exists");
            }
        }
        for (Job other : clashes) {
            if (job.launchId() != null && job.launchId().equals(other.launchId())) {
                throw new SkyDeckException.Conflict(Reason.ALREADY_RECORDED, "launch id " + job.launchId()
                        + " is already recorded");
            }
        }
        throw activeJob(job);
    }

    private static SkyDeckException activeJob(Job job) {
        return new SkyDeckException.Conflict(Reason.ACTIVE_JOB, "experiment '" + job.experimentName()
                + "' already has an active job: at most one runs at a time");
    }

    @Override
    public Job updateJob(Job job) {
        Object[] all = jobParams(job);
        Object[] params = concat(java.util.Arrays.copyOfRange(all, 2, all.length), job.id(), job.experimentName());
        int changed = jobWrite(job, () -> session.update(statements.updateJob, params));
        if (changed == 0) {
            Optional<String> experiment = sql(() -> session.first("SELECT experiment_name FROM jobs WHERE id = ?",
                    rs -> rs.getString(1), job.id()));
            if (experiment.isEmpty()) {
                throw new SkyDeckException.NotFound("job " + job.id() + " does not exist");
            }
            throw new IllegalArgumentException("a job's experiment never changes (job " + job.id() + " belongs to '"
                    + experiment.get() + "')");
        }
        return job;
    }

    @Override
    public void updateJobs(List<Job> jobs) {
        if (jobs.isEmpty()) {
            return;
        }
        List<Object[]> rows = new ArrayList<>(jobs.size());
        for (Job job : jobs) {
            Object[] all = jobParams(job);
            rows.add(concat(java.util.Arrays.copyOfRange(all, 2, all.length), job.id(), job.experimentName()));
        }
        jobWrite(jobs.get(0), () -> atomically(() -> {
            int[] counts = session.batchCounts(statements.updateJob, rows);
            for (int i = 0; i < counts.length; i++) {
                if (counts[i] == 0) {
                    throw new SkyDeckException.NotFound("job " + jobs.get(i).id()
                            + " does not exist (or changed experiment)");
                }
            }
            return null;
        }));
    }

    /** Runs a job update; the one rule an update can break is a second active launch (a finished job made active). */
    private <T> T jobWrite(Job job, Work<T> work) {
        try {
            return work.run();
        } catch (SQLException e) {
            if (statements.dialect.isConstraintViolation(e)) {
                throw activeJob(job);
            }
            throw database.translate(e);
        }
    }

    @Override
    public Group insertGroup(Group group) {
        return sql(() -> atomically(() -> {
            checkMembers(group);
            Object[] row = session.first("INSERT INTO experiment_groups (id, name, name_prefix, flags, sort_order,"
                    + " collapsed) VALUES ((SELECT coalesce(max(id), 0) + 1 FROM experiment_groups), ?, ?, ?,"
                    + " (SELECT coalesce(max(sort_order), -1) + 1 FROM experiment_groups), ?) RETURNING id, sort_order",
                    rs -> new Object[] {rs.getLong(1), rs.getInt(2)},
                    group.name(), group.namePrefix(), Json.write(group.flags()), group.collapsed()).orElseThrow();
            long id = (Long) row[0];
            insertMembers(id, group);
            return new Group(id, group.name(), group.namePrefix(), group.flags(), (Integer) row[1], group.collapsed(),
                    group.experimentIds());
        }));
    }

    @Override
    public Group importGroup(Group group) {
        return sql(() -> atomically(() -> {
            if (group(group.id()).isPresent()) {
                throw new SkyDeckException.Conflict(Reason.ALREADY_RECORDED, "group " + group.id() + " already exists");
            }
            checkMembers(group);
            session.update("INSERT INTO experiment_groups (id, name, name_prefix, flags, sort_order, collapsed)"
                    + " VALUES (?, ?, ?, ?, ?, ?)", group.id(), group.name(), group.namePrefix(),
                    Json.write(group.flags()), group.order(), group.collapsed());
            insertMembers(group.id(), group);
            return group;
        }));
    }

    @Override
    public Group updateGroup(Group group) {
        return sql(() -> atomically(() -> {
            checkMembers(group);
            int changed = session.update("UPDATE experiment_groups SET name = ?, name_prefix = ?, flags = ?,"
                    + " sort_order = ?, collapsed = ? WHERE id = ?", group.name(), group.namePrefix(),
                    Json.write(group.flags()), group.order(), group.collapsed(), group.id());
            if (changed == 0) {
                throw new SkyDeckException.NotFound("group " + group.id() + " does not exist");
            }
            session.update("DELETE FROM group_members WHERE group_id = ?", group.id());
            insertMembers(group.id(), group);
            return group;
        }));
    }

    private void checkMembers(Group group) throws SQLException {
        if (group.experimentIds().isEmpty()) {
            return;
        }
        List<Long> distinct = group.experimentIds().stream().distinct().toList();
        long found = session.number("SELECT count(*) FROM experiments WHERE id" + statements.idsIn, Json.write(distinct));
        if (found != distinct.size()) {
            throw new SkyDeckException.NotFound("group '" + group.name() + "' lists an experiment that does not"
                    + " exist (" + group.experimentIds() + ")");
        }
    }

    private void insertMembers(long groupId, Group group) throws SQLException {
        if (!group.experimentIds().isEmpty()) {
            session.update(statements.insertMembers, groupId, Json.write(group.experimentIds()));
        }
    }

    @Override
    public void deleteGroup(long groupId) {
        int changed = sql(() -> session.update("DELETE FROM experiment_groups WHERE id = ?", groupId));
        if (changed == 0) {
            throw new SkyDeckException.NotFound("group " + groupId + " does not exist");
        }
    }

    @Override
    public void upsertCheckpoint(Checkpoint c) {
        sql(() -> {
            if (session.number("SELECT count(*) FROM experiments WHERE id = ?", c.experimentId()) == 0) {
                throw new SkyDeckException.NotFound("checkpoint of epoch " + c.epoch() + " belongs to experiment "
                        + c.experimentId() + ", which does not exist");
            }
            return session.update("INSERT INTO checkpoints (experiment_id, epoch, model_path, replay_paths,"
                    + " policy_version, size_bytes, created_at, synced_at, gone_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    + " ON CONFLICT (experiment_id, epoch) DO UPDATE SET model_path = excluded.model_path,"
                    + " replay_paths = excluded.replay_paths, policy_version = excluded.policy_version,"
                    + " size_bytes = excluded.size_bytes, created_at = excluded.created_at,"
                    + " synced_at = excluded.synced_at, gone_at = excluded.gone_at",
                    c.experimentId(), c.epoch(), c.modelPath(), Json.write(c.replayPaths()), c.policyVersion(),
                    c.sizeBytes(), Times.toNanos(c.createdAt()), Times.toNanos(c.syncedAt()),
                    Times.toNanos(c.goneAt()));
        });
    }

    @Override
    public Event appendEvent(Event draft) {
        return appendEvents(List.of(draft)).get(0);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Numbers them after the highest one stored: writers are serialised, so numbers follow
     * commit order without gaps on every database.
     */
    @Override
    public List<Event> appendEvents(List<Event> drafts) {
        if (drafts.isEmpty()) {
            return List.of();
        }
        long last = lastAppended >= 0 ? lastAppended : lastEventSeq();
        List<Event> out = new ArrayList<>(drafts.size());
        for (int from = 0; from < drafts.size(); from += Statements.EVENTS_PER_STATEMENT) {
            List<Event> chunk = drafts.subList(from, Math.min(drafts.size(), from + Statements.EVENTS_PER_STATEMENT));
            List<Object> params = new ArrayList<>(chunk.size() * 11);
            for (Event d : chunk) {
                Event numbered = d.withSeq(++last);
                out.add(numbered);
                params.addAll(java.util.Arrays.asList(numbered.seq(), Times.toNanos(d.time()), d.actor(), d.type(),
                        d.experimentId(), d.experimentName(), d.jobId(), d.success(), d.message(), d.detail(),
                        d.user()));
            }
            String values = String.join(", ", java.util.Collections.nCopies(chunk.size(),
                    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
            sql(() -> session.update("INSERT INTO events (seq, time, actor, type, experiment_id,"
                    + " experiment_name, job_id, success, message, detail, user_name) VALUES " + values,
                    params.toArray()));
        }
        lastAppended = last;
        return out;
    }

    @Override
    public void putSetting(String key, String value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        sql(() -> session.update("INSERT INTO settings (key, value) VALUES (?, ?)"
                + " ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value));
    }

    @Override
    public Lease acquireLease(String name, String holder, Duration ttl, Instant now, long staleToken) {
        return sql(() -> {
            long clock = storeNow(now);
            long until = clock + ttl.toNanos();
            Optional<Lease> current = session.first("SELECT * FROM leases WHERE name = ?", StoreSql::leaseRow, name);
            long token;
            if (current.isEmpty()) {
                token = 1;
            } else if (current.get().heldBy(holder)) {
                token = current.get().token();
            } else if (Times.toNanos(current.get().expiresAt()) <= clock
                    || (staleToken != 0 && current.get().token() == staleToken)) {
                token = current.get().token() + 1;
            } else {
                return current.get();
            }
            session.update("INSERT INTO leases (name, holder, token, expires_at) VALUES (?, ?, ?, ?)"
                    + " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, token = excluded.token,"
                    + " expires_at = excluded.expires_at", name, holder, token, until);
            return new Lease(name, holder, token, Times.fromNanos(until));
        });
    }

    @Override
    public boolean holdsLease(String name, String holder, long token, Instant now) {
        String sql = "SELECT count(*) FROM leases WHERE name = ? AND holder = ? AND token = ? AND expires_at > "
                + statements.dialect.nowNanos();
        Object[] params = statements.dialect.nowIsParameter()
                ? new Object[] {name, holder, token, Times.toNanos(now)} : new Object[] {name, holder, token};
        return sql(() -> session.number(sql, params)) > 0;
    }

    @Override
    public void releaseLease(String name, String holder, Instant now) {
        sql(() -> session.update("UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ?", storeNow(now),
                name, holder));
    }

    /** The store's clock in epoch nanoseconds: {@code now}, or the database server's for a shared server. */
    private long storeNow(Instant now) throws SQLException {
        return statements.dialect.nowIsParameter() ? Times.toNanos(now)
                : session.number("SELECT " + statements.dialect.nowNanos());
    }

    @Override
    public void insertToken(ApiToken token, String sha256Hex) {
        int inserted = sql(() -> session.update("INSERT INTO api_tokens (id, user_name, hash, created_at, revoked_at)"
                + " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", token.id(), token.user(), sha256Hex,
                Times.toNanos(token.createdAt()), Times.toNanos(token.revokedAt())));
        if (inserted == 0) {
            throw new SkyDeckException.Conflict(Reason.ALREADY_RECORDED, "token " + token.id() + " already exists");
        }
    }

    @Override
    public boolean revokeToken(String id, Instant now) {
        return sql(() -> session.update("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                Times.toNanos(now), id)) > 0;
    }

    /** Runs several statements as one: all or none, even when the caller catches the failure and goes on. */
    private <T> T atomically(Work<T> work) throws SQLException {
        session.control("SAVEPOINT skydeck_op");
        boolean ok = false;
        try {
            T result = work.run();
            ok = true;
            return result;
        } finally {
            if (!ok) {
                session.control("ROLLBACK TO SAVEPOINT skydeck_op");
            }
            session.control("RELEASE SAVEPOINT skydeck_op");
        }
    }

    // ---- parameters ----

    private static Object[] specParams(ExperimentSpec s) {
        Resources r = s.resources();
        RestartPolicy p = s.restartPolicy();
        return new Object[] {s.name(), Json.write(s.flags()), s.baseCommand(), s.toolPath(), s.gitBranch(), s.nodes(),
            s.gpus(), r.cloud(), r.region(), r.instanceType(), r.accelerator(), r.spot(), r.pool(), s.desiredState(), p.mode(),
            p.maxRestarts(), p.backoff().toNanos(), p.maxBackoff().toNanos(), s.priority(), s.description(),
            Json.write(s.tags()), s.taskTemplate(), s.runName(), flagIndex(s), ExperimentQuery.searchText(s)};
    }

    /**
     * The flags as the trigger-kept {@code experiment_flags} rows take them: {@code [name, text,
     * number or null, JSON]} each.
     */
    static String flagIndex(ExperimentSpec s) {
        return flagIndex(s.flags());
    }

    private static String flagIndex(Map<String, Object> flags) {
        List<List<Object>> rows = new ArrayList<>(flags.size());
        flags.forEach((name, value) -> rows.add(java.util.Arrays.asList(name, ExperimentQuery.flagText(value),
                ExperimentQuery.flagNumber(value), Json.write(value))));
        return Json.write(rows);
    }

    private static Object[] jobParams(Job j) {
        Resources r = j.resources();
        JobCancel c = j.cancel();
        return new Object[] {j.id(), j.experimentName(), j.backend(), j.backendJobId(), j.launchId(), j.launchRef(),
            j.status(),
            j.backendStatus(), j.failureReason(), j.details(), j.stage(), Times.toNanos(j.stageSince()), j.attempt(),
            j.generation(), Json.write(j.command()), Json.write(j.flags()), j.nodes(), j.gpus(), r.cloud(), r.region(),
            r.instanceType(), r.accelerator(), r.spot(), r.pool(), j.gitRef(), j.configHash(), Times.toNanos(j.createdAt()),
            Times.toNanos(j.submittedAt()), Times.toNanos(j.startedAt()), Times.toNanos(j.endedAt()), j.exitCode(),
            j.recoveryCount(), j.clusterName(), j.cloud(), j.region(),
            c == null ? null : Times.toNanos(c.requestedAt()), c == null ? null : c.requestedBy(),
            c == null ? null : Times.toNanos(c.sentAt()), c == null ? 0 : c.attempts(), Times.toNanos(j.updatedAt()),
            j.launchedBy()};
    }

    private static Object[] concat(Object[] head, Object... tail) {
        return Stream.concat(java.util.Arrays.stream(head), java.util.Arrays.stream(tail)).toArray();
    }

    // ---- rows ----

    private Experiment experimentRow(ResultSet rs) throws SQLException {
        long id = rs.getLong("id");
        long version = rs.getLong("version");
        long createdAt = rs.getLong("created_at");
        ExperimentSpec spec = specs == null ? null : specs.get(id, version, createdAt);
        if (spec == null) {
            spec = specRow(rs);
            if (specs != null) {
                specs.put(id, version, createdAt, spec);
            }
        }
        JobStage stage = enumOrNull(JobStage.class, rs.getString("stage"));
        ExperimentStatus status = new ExperimentStatus(stage, rs.getString("state_reason"),
                rs.getLong("observed_generation"), enumOrNull(DesiredState.class, rs.getString("observed_desired")),
                rs.getInt("launch_retries"), instant(rs, "next_attempt_at"), rs.getBoolean("settled"));
        JobStatus latest = enumOrNull(JobStatus.class, rs.getString("x_status"));
        long epoch = rs.getLong("x_epoch");
        Long latestEpoch = rs.wasNull() ? null : epoch;
        String activeHash = rs.getString("active_hash");
        return new Experiment(id, spec, rs.getBoolean("starred"), rs.getInt("sort_order"),
                rs.getBoolean("expanded"), rs.getBoolean("deleted"), Times.fromNanos(createdAt),
                instant(rs, "updated_at"), version, rs.getLong("generation"),
                ExperimentStatus.currentState(stage, latest), status, latestEpoch,
                activeHash != null && !activeHash.equals(spec.configHash()), rs.getString("created_by"),
                rs.getString("started_by"), instant(rs, "latest_started_at"));
    }

    private static ExperimentSpec specRow(ResultSet rs) throws SQLException {
        return new ExperimentSpec(rs.getString("name"), Json.flags(rs.getString("flags")),
                rs.getString("base_command"), rs.getString("tool_path"), rs.getString("git_branch"),
                rs.getInt("nodes"), rs.getInt("gpus"),
                new Resources(rs.getString("cloud"), rs.getString("region"), rs.getString("instance_type"),
                        rs.getString("accelerator"), rs.getBoolean("spot"), rs.getString("pool")),
                DesiredState.valueOf(rs.getString("desired_state")),
                new RestartPolicy(RestartPolicy.Mode.valueOf(rs.getString("restart_mode")), rs.getInt("max_restarts"),
                        Duration.ofNanos(rs.getLong("restart_backoff_nanos")),
                        Duration.ofNanos(rs.getLong("restart_max_backoff_nanos"))),
                rs.getInt("priority"), rs.getString("description"), Json.strings(rs.getString("tags")),
                rs.getString("task_template"), rs.getString("run_name"));
    }

    private static Job jobRow(ResultSet rs) throws SQLException {
        int exit = rs.getInt("exit_code");
        Integer exitCode = rs.wasNull() ? null : exit;
        return new Job(rs.getString("id"), rs.getString("experiment_name"), rs.getString("backend"),
                rs.getString("backend_job_id"), rs.getString("launch_id"), rs.getString("launch_ref"),
                JobStatus.valueOf(rs.getString("status")),
                rs.getString("backend_status"), rs.getString("failure_reason"), rs.getString("details"),
                JobStage.valueOf(rs.getString("stage")), instant(rs, "stage_since"), rs.getInt("attempt"),
                rs.getLong("generation"), Json.strings(rs.getString("command")), Json.flags(rs.getString("flags")),
                rs.getInt("nodes"), rs.getInt("gpus"),
                new Resources(rs.getString("res_cloud"), rs.getString("res_region"), rs.getString("res_instance_type"),
                        rs.getString("res_accelerator"), rs.getBoolean("res_spot"), rs.getString("res_pool")),
                rs.getString("git_ref"), rs.getString("config_hash"), instant(rs, "created_at"),
                instant(rs, "submitted_at"), instant(rs, "started_at"), instant(rs, "ended_at"), exitCode,
                rs.getInt("recovery_count"), rs.getString("cluster_name"), rs.getString("cloud"), rs.getString("region"),
                cancel(rs), instant(rs, "updated_at"), rs.getString("launched_by"));
    }

    private static JobCancel cancel(ResultSet rs) throws SQLException {
        Instant requested = instant(rs, "cancel_requested_at");
        return requested == null ? null : new JobCancel(requested, Actor.valueOf(rs.getString("cancel_requested_by")),
                instant(rs, "cancel_sent_at"), rs.getInt("cancel_attempts"));
    }

    private static Group groupRow(ResultSet rs) throws SQLException {
        String members = rs.getString("members");
        return new Group(rs.getLong("id"), rs.getString("name"), rs.getString("name_prefix"),
                Json.strings(rs.getString("flags")), rs.getInt("sort_order"), rs.getBoolean("collapsed"),
                members == null ? List.of() : Json.longs(members));
    }

    private static Checkpoint checkpointRow(ResultSet rs) throws SQLException {
        return new Checkpoint(rs.getLong("experiment_id"), rs.getLong("epoch"), rs.getString("model_path"),
                Json.strings(rs.getString("replay_paths")), rs.getString("policy_version"), rs.getLong("size_bytes"),
                instant(rs, "created_at"), instant(rs, "synced_at"), instant(rs, "gone_at"));
    }

    private static Event eventRow(ResultSet rs) throws SQLException {
        long experimentId = rs.getLong("experiment_id");
        Long experiment = rs.wasNull() ? null : experimentId;
        return new Event(rs.getLong("seq"), instant(rs, "time"), Actor.valueOf(rs.getString("actor")),
                EventType.valueOf(rs.getString("type")), experiment, rs.getString("experiment_name"),
                rs.getString("job_id"), rs.getBoolean("success"), rs.getString("message"), rs.getString("detail"),
                rs.getString("user_name"));
    }

    private static Lease leaseRow(ResultSet rs) throws SQLException {
        return new Lease(rs.getString("name"), rs.getString("holder"), rs.getLong("token"), instant(rs, "expires_at"));
    }

    private static ApiToken tokenRow(ResultSet rs) throws SQLException {
        return new ApiToken(rs.getString("id"), rs.getString("user_name"), instant(rs, "created_at"),
                instant(rs, "revoked_at"));
    }

    private static Instant instant(ResultSet rs, String column) throws SQLException {
        long nanos = rs.getLong(column);
        return rs.wasNull() ? null : Times.fromNanos(nanos);
    }

    private static <E extends Enum<E>> E enumOrNull(Class<E> type, String name) {
        return name == null ? null : Enum.valueOf(type, name);
    }
}
