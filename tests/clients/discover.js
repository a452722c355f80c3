// node-postgres: connect and list the gateway's tables and one table's columns.
// Usage: node discover.js CONNECTION_STRING TABLE
const { Client } = require('pg');

async function main() {
  const [url, table] = process.argv.slice(2);
  const client = new Client({ connectionString: url });
  await client.connect();
  const tables = await client.query(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1");
  for (const r of tables.rows) console.log('table ' + r.table_name);
  const cols = await client.query(
    'SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position',
    [table]);
  for (const r of cols.rows) console.log('column ' + r.column_name + ' ' + r.data_type);
  await client.end();
}
main().catch((e) => { console.error(e); process.exit(1); });
