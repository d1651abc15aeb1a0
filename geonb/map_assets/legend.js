// Legend control of geonb.maps.add_legend (a Jinja template: `this` is the branca element).
(function(){
  var c = L.control({position: {{ this.position|tojson }}});
  c.onAdd = function(){
    var d = L.DomUtil.create('div', 'geonb-legend');
    d.innerHTML = {{ this.content|tojson }};
    return d;
  };
  c.addTo({{ this._parent.get_name() }});
})();
