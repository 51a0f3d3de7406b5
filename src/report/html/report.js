
window.onerror = function (message) { document.body.dataset.status = 'error: ' + message; };
(function () {
  function key(cell) {
    var raw = cell.getAttribute('data-v');
    var text = raw === null ? cell.textContent.trim() : raw;
    var number = Number(text);
    return text !== '' && isFinite(number) ? { number: number } : { text: text.toLowerCase() };
  }
  function compare(a, b) {
    if ('number' in a && 'number' in b) { return a.number - b.number; }
    if ('number' in a) { return -1; }
    if ('number' in b) { return 1; }
    return a.text.localeCompare(b.text);
  }
  var tables = document.querySelectorAll('table.sortable');
  Array.prototype.forEach.call(tables, function (table) {
    var headers = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(headers, function (header, column) {
      header.tabIndex = 0;
      header.title = 'Sort by this column';
      function sort() {
        var ascending = header.getAttribute('aria-sort') !== 'ascending';
        Array.prototype.forEach.call(headers, function (other) { other.removeAttribute('aria-sort'); });
        header.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var order = compare(key(a.cells[column]), key(b.cells[column]));
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      }
      header.addEventListener('click', sort);
      header.addEventListener('keydown', function (event) {
        if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); sort(); }
      });
    });
  });
})();
document.body.dataset.status = 'ok';
