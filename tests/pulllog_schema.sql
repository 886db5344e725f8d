-- A schema shaped like PullLog's, for tests of the table and partition signals. Each test loads
-- it into a database of its own, so tests may detach, drop or fill partitions freely.

create table users (
    id bigint generated always as identity primary key,
    name text not null,
    created_at timestamptz not null default now()
);

create table apps (
    id bigint generated always as identity primary key,
    user_id bigint not null references users (id),
    name text not null
);

-- PullLog's main table: hash-partitioned by user into 10 partitions, logs_p0 ... logs_p9.
create table logs (
    id bigint generated always as identity,
    user_id bigint not null,
    app_id bigint,
    logged_at timestamptz not null default now(),
    payload text,
    primary key (user_id, id)
) partition by hash (user_id);

do $$
begin
    for remainder in 0..9 loop
        execute format(
            'create table logs_p%s partition of logs for values with (modulus 10, remainder %s)',
            remainder,
            remainder
        );
    end loop;
end
$$;

-- A range-partitioned table by month with a default partition. The months run from the current
-- one to two months ahead, so that a freshly loaded schema has partitions well into the future.
create table events (
    id bigint generated always as identity,
    occurred_at timestamptz not null,
    kind text not null
) partition by range (occurred_at);

do $$
declare
    month_start timestamptz := date_trunc('month', now());
begin
    for offset_months in 0..2 loop
        execute format(
            'create table events_%s partition of events for values from (%L) to (%L)',
            to_char(month_start + make_interval(months => offset_months), 'YYYY_MM'),
            month_start + make_interval(months => offset_months),
            month_start + make_interval(months => offset_months + 1)
        );
    end loop;
end
$$;

create table events_default partition of events default;
