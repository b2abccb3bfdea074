// Under the header: Browse / Your Custom Capabilities, the category chips, the price filter and
// the order of the cards.
import type { CategoryCount } from "../../generated/CategoryCount";
import { formatCount } from "../../lib/format";
import { effectiveSort, SORT_LABELS, type MarketFilters, type MarketTab, type PriceFilter, type SortKey } from "./marketFormat";

type FilterBarProps = {
  filters: MarketFilters;
  categories: ReadonlyArray<CategoryCount>;
  onChange: (change: Partial<MarketFilters>) => void;
};

const PRICES: Array<{ value: PriceFilter; label: string }> = [
  { value: "all", label: "All" },
  { value: "free", label: "Free" },
  { value: "paid", label: "Paid" },
];

const TABS: Array<{ value: MarketTab; label: string }> = [
  { value: "browse", label: "Browse" },
  { value: "yours", label: "Your Custom Capabilities" },
];

export function FilterBar({ filters, categories, onChange }: FilterBarProps) {
  const searching = filters.text.trim() !== "";
  const sorts = (Object.keys(SORT_LABELS) as Array<SortKey>).filter((s) => s !== "relevance" || searching);
  return (
    <div className="market-filters">
      <div className="tab-list market-tabs" role="tablist" aria-label="Which capabilities">
        {TABS.map((tab) => (
          <button
            key={tab.value}
            type="button"
            role="tab"
            className="tab"
            aria-selected={filters.tab === tab.value}
            data-testid={`market-tab-${tab.value}`}
            onClick={() => onChange({ tab: tab.value })}
          >
            {tab.value === "yours" && <span aria-hidden="true">🔒</span>}
            {tab.label}
          </button>
        ))}
      </div>
      <div className="market-filter-row">
        <div className="market-chips" role="group" aria-label="Categories">
          <CategoryChip name="All" testId="market-category-all" active={filters.category === null} onClick={() => onChange({ category: null })} />
          {categories.map((c) => (
            <CategoryChip
              key={c.name}
              name={c.name}
              count={c.count}
              testId={`market-category-${c.name}`}
              active={filters.category === c.name}
              onClick={() => onChange({ category: filters.category === c.name ? null : c.name })}
            />
          ))}
        </div>
        <div className="market-filter-tools">
          <div className="segmented" role="group" aria-label="Price">
            {PRICES.map((p) => (
              <button
                key={p.value}
                type="button"
                className={`segmented-item${filters.price === p.value ? " is-active" : ""}`}
                aria-pressed={filters.price === p.value}
                data-testid={`market-price-${p.value}`}
                onClick={() => onChange({ price: p.value })}
              >
                {p.label}
              </button>
            ))}
          </div>
          <label className="field-inline small">
            <span>Sort</span>
            <select
              className="select"
              data-testid="market-sort"
              value={effectiveSort(filters)}
              onChange={(e) => onChange({ sort: e.currentTarget.value as SortKey })}
            >
              {sorts.map((s) => (
                <option key={s} value={s}>
                  {SORT_LABELS[s]}
                </option>
              ))}
            </select>
          </label>
        </div>
      </div>
    </div>
  );
}

type CategoryChipProps = { name: string; count?: number; testId: string; active: boolean; onClick: () => void };

function CategoryChip({ name, count, testId, active, onClick }: CategoryChipProps) {
  return (
    <button
      type="button"
      className={`category-chip${active ? " is-active" : ""}`}
      aria-pressed={active}
      data-testid={testId}
      onClick={onClick}
    >
      {name}
      {count !== undefined && <span className="category-count">{formatCount(count)}</span>}
    </button>
  );
}
