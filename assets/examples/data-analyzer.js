// custom-data-analyzer.js — the design document's Type 3 (code-based) example.
/**
 * Custom Data Analyzer Capability
 * @capability
 */
export default {
  id: 'data-analyzer',
  name: 'Advanced Data Analyzer',
  version: '1.0.0',

  // Define what this capability can do
  actions: {
    async analyzeDataset(input) {
      const { dataset, analysisType } = input;

      // Sandboxed environment provides safe utilities
      const data = await this.utils.parseCSV(dataset);

      switch (analysisType) {
        case 'statistical':
          return this.statisticalAnalysis(data);
        case 'trends':
          return this.trendAnalysis(data);
        case 'correlations':
          return this.correlationAnalysis(data);
        default:
          throw new Error('Unknown analysis type');
      }
    },

    statisticalAnalysis(data) {
      return {
        mean: this.utils.mean(data),
        median: this.utils.median(data),
        stdDev: this.utils.standardDeviation(data),
        outliers: this.utils.findOutliers(data)
      };
    }
  },

  // Configuration schema
  config: {
    maxDatasetSize: {
      type: 'number',
      default: 10000,
      description: 'Maximum rows to process'
    }
  },

  // Required permissions
  permissions: ['data.read', 'compute.moderate']
};
