// The design document's Example 2, exactly as written. It does not parse: `async actions: {`
// is not valid JavaScript (an object property cannot be `async` unless it is a method).
// Capsmith reports the syntax error with its line and column; it is not seeded.
export default {
  id: 'custom-db-query',
  
  async actions: {
    async queryCustomers(input) {
      const { filters } = input;
      
      // Safe database access
      const results = await this.db.query(`
        SELECT * FROM customers 
        WHERE status = $1 
        LIMIT 100
      `, [filters.status]);
      
      return results;
    }
  },
  
  permissions: ['database.read']
};
