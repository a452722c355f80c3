// pgjdbc: connect, list the gateway's tables and one table's columns through DatabaseMetaData.
// Usage: java -cp postgresql.jar Discover.java URL USER PASSWORD TABLE
import java.sql.*;

public class Discover {
    public static void main(String[] args) throws Exception {
        try (Connection c = DriverManager.getConnection(args[0], args[1], args[2])) {
            DatabaseMetaData md = c.getMetaData();
            try (ResultSet rs = md.getTables(null, "public", "%", new String[] {"TABLE"})) {
                while (rs.next()) System.out.println("table " + rs.getString("TABLE_NAME"));
            }
            try (ResultSet rs = md.getColumns(null, "public", args[3], "%")) {
                while (rs.next()) {
                    System.out.println("column " + rs.getString("COLUMN_NAME") + " "
                        + rs.getString("TYPE_NAME") + " " + rs.getInt("NULLABLE"));
                }
            }
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT current_database(), version()")) {
                rs.next();
                System.out.println("database " + rs.getString(1));
            }
        }
    }
}
