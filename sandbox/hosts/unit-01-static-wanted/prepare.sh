# Healthy (JADA-UNIT-01): a vendor-style static unit (no [Install]) shipped in
# /usr/lib/systemd/system with its wants link there too, as packages do; systemctl
# says "static", yet multi-user.target pulls it in at every boot.
mkdir -p usr/lib/systemd/system/multi-user.target.wants
sed '/^\[Install\]/,$d' etc/systemd/system/jada-agent.service > usr/lib/systemd/system/jada-agent.service
rm etc/systemd/system/jada-agent.service etc/systemd/system/multi-user.target.wants/jada-agent.service
ln -s ../jada-agent.service usr/lib/systemd/system/multi-user.target.wants/jada-agent.service
