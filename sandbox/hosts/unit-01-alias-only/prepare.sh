# Fault (JADA-UNIT-01): [Install] has only Alias=, so `systemctl enable` made only the alias
# link /etc/systemd/system/jada.service; systemctl calls the unit "enabled", but nothing
# pulls it in at boot. The sandbox starts it by hand after boot (started-by-hand).
sed -i 's/^WantedBy=.*/Alias=jada.service/' etc/systemd/system/jada-agent.service
rm etc/systemd/system/multi-user.target.wants/jada-agent.service
ln -s /etc/systemd/system/jada-agent.service etc/systemd/system/jada.service
