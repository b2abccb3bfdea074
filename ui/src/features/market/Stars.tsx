// A rating as stars and a number ("★★★★☆ 4.2 (12)"), or "No ratings yet".
import { formatCount } from "../../lib/format";
import { starGlyphs } from "./marketFormat";

export function Stars({ rating, count }: { rating: number | null; count: number }) {
  if (rating === null || count === 0) return <span className="stars stars-none">No ratings yet</span>;
  return (
    <span className="stars" title={`Rated ${rating.toFixed(1)} out of 5 by ${formatCount(count)}`}>
      <span className="stars-glyphs" aria-hidden="true">
        {starGlyphs(rating)}
      </span>
      <span className="visually-hidden">Rated</span> <strong className="stars-value">{rating.toFixed(1)}</strong>
      <span className="muted">({formatCount(count)})</span>
    </span>
  );
}
