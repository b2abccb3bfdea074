// How the marketplace reads: prices, star ratings, install counts, visibility, permissions in
// plain words, and the query the page's filters make.
import type { MarketQuery } from "../../generated/MarketQuery";
import { formatCount } from "../../lib/format";

const USD = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });

/** "Free" or "$9.00". */
export function formatPrice(cents: number): string {
  return cents <= 0 ? "Free" : USD.format(cents / 100);
}

/** "★★★★☆": the rating rounded to whole stars, out of five. */
export function starGlyphs(rating: number): string {
  const filled = Math.max(0, Math.min(5, Math.round(rating)));
  return "★".repeat(filled) + "☆".repeat(5 - filled);
}

/** "1,234 installs", "1 install". */
export function formatInstalls(installs: number): string {
  return `${formatCount(installs)} ${installs === 1 ? "install" : "installs"}`;
}

export const VISIBILITY_LABELS: Record<string, string> = {
  public: "Public",
  organization: "Organization",
  private: "Private",
};

export function visibilityLabel(visibility: string): string {
  return VISIBILITY_LABELS[visibility] ?? visibility;
}

export type PriceFilter = "all" | "free" | "paid";
export type MarketTab = "browse" | "yours";
/** `null` is the default order: relevance when searching, most installed otherwise. */
export type SortKey = "relevance" | "installs" | "rating" | "recent" | "name";

export type MarketFilters = {
  text: string;
  category: string | null;
  price: PriceFilter;
  sort: SortKey | null;
  page: number;
  tab: MarketTab;
};

export const PER_PAGE = 24;

export const INITIAL_FILTERS: MarketFilters = {
  text: "",
  category: null,
  price: "all",
  sort: null,
  page: 1,
  tab: "browse",
};

export const SORT_LABELS: Record<SortKey, string> = {
  relevance: "Relevance",
  installs: "Most installed",
  rating: "Top rated",
  recent: "Newest",
  name: "Name",
};

/** The order in force: relevance only means something while searching. */
export function effectiveSort(filters: MarketFilters): SortKey {
  const searching = filters.text.trim() !== "";
  if (filters.sort === null || (filters.sort === "relevance" && !searching)) return searching ? "relevance" : "installs";
  return filters.sort;
}

/** True when anything narrows the results (the text, a category, the price). */
export function isFiltered(filters: MarketFilters): boolean {
  return filters.text.trim() !== "" || filters.category !== null || filters.price !== "all";
}

export function toQuery(filters: MarketFilters): MarketQuery {
  const text = filters.text.trim();
  return {
    text: text === "" ? null : text,
    category: filters.category,
    tag: null,
    price: filters.price === "all" ? null : filters.price,
    sort: effectiveSort(filters),
    // Private and organization listings: "Your Custom Capabilities".
    custom: filters.tab === "yours" ? true : null,
    page: filters.page,
    per_page: PER_PAGE,
  };
}
