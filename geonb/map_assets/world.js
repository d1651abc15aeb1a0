// Offline world basemap of geonb.maps.add_world_layer (a Jinja template: `this` is the branca element).
// Land (its outline is the coastline) and country borders, in a pane under the lake overlays and above
// any tiles; not interactive, so clicks reach the lakes.
(function(){
  var map = {{ this._parent.get_name() }};
  var style = {{ this.style|tojson }};
  var pane = map.getPane('geonbWorld') || map.createPane('geonbWorld');
  pane.style.zIndex = 250;
  pane.style.pointerEvents = 'none';
  map.getContainer().style.background = style.sea;
  var world = L.geoJSON({{ this.data_json }}, {
    pane: 'geonbWorld',
    interactive: false,
    style: function(feature) {
      if (feature.properties.kind === 'land') {
        return {stroke: true, color: style.coast, weight: style.coast_weight, opacity: 1,
                fill: true, fillColor: style.land, fillOpacity: 1};
      }
      return {stroke: true, color: style.border, weight: style.border_weight, opacity: 1,
              dashArray: '4 3', fill: false};
    }
  }).addTo(map);
  if (map.attributionControl) { map.attributionControl.addAttribution('Natural Earth'); }
  map.geonbWorld = world;
})();
