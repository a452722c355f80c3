// pgjdbc write scenarios for pggw's integration tests, driven over stdin so that one JVM
// serves a whole test module: the test writes a scenario name, this program runs it and
// answers with lines ending in "END" (the test reads the WAL in between).
// Usage: java -Duser.timezone=UTC -cp postgresql.jar IngestJdbc.java URL USER PASSWORD
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.StringReader;
import java.sql.*;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Arrays;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

public class IngestJdbc {
    static String url, user, password;

    static Connection connect(String params) throws SQLException {
        return DriverManager.getConnection(url + params, user, password);
    }

    static void batch(String params, String prefix) throws SQLException {
        try (Connection c = connect(params);
             PreparedStatement ps = c.prepareStatement(
                 "INSERT INTO double_datapoints (external_id, timestamp, value) VALUES (?, ?, ?)")) {
            for (int i = 0; i < 100; i++) {
                ps.setString(1, prefix);
                ps.setTimestamp(2, new Timestamp(1704067200000L + i * 1000L));
                ps.setDouble(3, i * 0.5);
                ps.addBatch();
            }
            int[] counts = ps.executeBatch();
            System.out.println("counts " + Arrays.stream(counts).sum() + " " + counts.length);
            // setObject with an OffsetDateTime (timestamptz) and a NULL-typed parameter.
            try (PreparedStatement p2 = c.prepareStatement(
                     "INSERT INTO events (external_id, start_time, description, asset_ids)"
                     + " VALUES (?, ?, ?, ?)")) {
                p2.setString(1, prefix + "-ev");
                p2.setObject(2, OffsetDateTime.of(2024, 1, 1, 1, 0, 0, 5_000_000,
                                                  ZoneOffset.ofHours(1)));
                p2.setNull(3, Types.VARCHAR);
                p2.setArray(4, c.createArrayOf("int8", new Long[] {7L, 8L}));
                System.out.println("update " + p2.executeUpdate());
            }
        }
    }

    static void transaction() throws Exception {
        try (Connection c = connect("")) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement(
                     "INSERT INTO assets (external_id, name, metadata) VALUES (?, ?, ?::json)")) {
                ps.setString(1, "jdbc-tx-1");
                ps.setString(2, "one");
                ps.setString(3, "{\"a\": \"b\"}");
                ps.executeUpdate();
                ps.setString(1, "jdbc-tx-2");
                ps.setString(2, "two");
                ps.setNull(3, Types.OTHER);
                ps.executeUpdate();
            }
            System.out.println("before-commit");
            System.out.flush();
            waitLine();
            c.commit();
            try (Statement st = c.createStatement()) {
                st.executeUpdate("INSERT INTO assets (external_id, name) VALUES ('jdbc-tx-rb', 'x')");
                c.rollback();
                System.out.println("update " + st.executeUpdate(
                    "UPDATE assets SET name = 'renamed' WHERE external_id IN ('jdbc-tx-1', 'jdbc-tx-2')"));
                System.out.println("delete " + st.executeUpdate(
                    "DELETE FROM assets WHERE external_id = 'jdbc-tx-2'"));
                c.commit();
            }
        }
    }

    static void copy() throws Exception {
        try (Connection c = connect("")) {
            CopyManager cm = c.unwrap(PGConnection.class).getCopyAPI();
            long n = cm.copyIn("COPY assets (external_id, name, metadata) FROM STDIN WITH (FORMAT csv)",
                new StringReader("jdbc-copy-1,One,\"{\"\"k\"\": \"\"v\"\"}\"\njdbc-copy-2,Two,\n"));
            System.out.println("copied " + n);
            c.setAutoCommit(false);
            n = cm.copyIn("COPY double_datapoints (external_id, timestamp, value) FROM STDIN CSV HEADER",
                new StringReader("xid,ts,v\njdbc-copy-dp,2024-01-01T00:00:00Z,3.5\n"));
            System.out.println("copied " + n);
            c.commit();
        }
    }

    static void errors() throws SQLException {
        try (Connection c = connect("")) {
            try (PreparedStatement ps = c.prepareStatement(
                     "INSERT INTO double_datapoints (external_id, timestamp, value) VALUES (?, ?, ?)")) {
                for (int i = 0; i < 3; i++) {
                    ps.setString(1, "jdbc-err");
                    ps.setTimestamp(2, new Timestamp(i == 1 ? -3000000000000L : 1704067200000L + i));
                    ps.setDouble(3, i);
                    ps.addBatch();
                }
                ps.executeBatch();
                System.out.println("no error");
            } catch (BatchUpdateException e) {
                SQLException next = e.getNextException() != null ? e.getNextException() : e;
                System.out.println("sqlstate " + next.getSQLState());
            }
            try (Statement st = c.createStatement()) {
                st.executeUpdate("INSERT INTO assets (external_id, name) VALUES ('jdbc-after-err', 'x')");
                System.out.println("after ok");
            }
        }
    }

    static BufferedReader in;

    static void waitLine() throws Exception {
        in.readLine();
    }

    public static void main(String[] args) throws Exception {
        url = args[0];
        user = args[1];
        password = args[2];
        in = new BufferedReader(new InputStreamReader(System.in));
        String line;
        while ((line = in.readLine()) != null) {
            try {
                switch (line.trim()) {
                    case "batch": batch("", "jdbc-batch"); break;
                    case "batch-rewrite": batch("?reWriteBatchedInserts=true", "jdbc-rewrite"); break;
                    case "transaction": transaction(); break;
                    case "copy": copy(); break;
                    case "errors": errors(); break;
                    default: System.out.println("unknown scenario " + line);
                }
            } catch (Exception e) {
                System.out.println("exception " + e);
            }
            System.out.println("END");
            System.out.flush();
        }
    }
}
